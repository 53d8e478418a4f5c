package org.repopt.data;

import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.FileSplit;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An ImageNet-style image folder: {@code root/train/<class>/*.{jpg,jpeg,png}} and {@code root/val/<class>/*}. Class
 * {@code i} is the {@code i}-th class folder name in sorted order; train and val must have the same class folders,
 * each holding at least one image. Files are listed through DataVec ({@link FileSplit},
 * {@link ParentPathLabelGenerator}) and sorted by path; images are decoded lazily per batch
 * ({@link ImageFolderSource}) and normalized with the ImageNet figures.
 */
final class ImageFolderDataset extends FormattedDataset {

    static final String TRAIN = "train";
    static final String VAL = "val";
    /** Image file extensions, compared ignoring case (ImageNet's files end in {@code .JPEG}). */
    static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png");

    private static final Logger LOG = LoggerFactory.getLogger(ImageFolderDataset.class);

    private final int size;
    private final Listing train;
    private final Listing val;
    private final DataOptions options;
    private final int[] trainExamples;

    /** The files of one split, relative to its folder, sorted, with their labels. */
    static final class Listing {
        final Path dir;
        final String[] files;
        final int[] labels;

        Listing(Path dir, String[] files, int[] labels) {
            this.dir = dir;
            this.files = files;
            this.labels = labels;
        }
    }

    private ImageFolderDataset(String name, int size, List<String> classNames, Listing train, Listing val,
                               DataOptions options) {
        super(name, new ImageFormat(ImageFolderSource.CHANNELS, size, size, classNames));
        this.size = size;
        this.train = train;
        this.val = val;
        this.options = Objects.requireNonNull(options, "options");
        this.trainExamples = options.subset().select(train.files.length, name);
    }

    /**
     * @param root the folder holding {@code train/} and {@code val/}
     * @param size side of the network input
     * @return the data set with default options
     * @throws IllegalArgumentException if a folder is missing, the class folders of train and val differ, a class
     *                                  folder has no image or an image is not inside a class folder
     */
    static ImageDataset load(Path root, int size) {
        if (size < 1) {
            throw new IllegalArgumentException("image size " + size + ": expected at least 1 pixel");
        }
        Path dir = root.toAbsolutePath().normalize();
        Path trainDir = dir.resolve(TRAIN);
        Path valDir = dir.resolve(VAL);
        for (Path d : List.of(trainDir, valDir)) {
            if (!Files.isDirectory(d)) {
                throw new IllegalArgumentException("image folder " + dir + ": no " + d.getFileName()
                        + " folder; expected " + dir + "/train/<class>/*.jpg|jpeg|png and " + dir
                        + "/val/<class>/*.jpg|jpeg|png");
            }
        }
        List<String> classes = classFolders(trainDir);
        List<String> valClasses = classFolders(valDir);
        if (!classes.equals(valClasses)) {
            Set<String> onlyTrain = new TreeSet<>(classes);
            valClasses.forEach(onlyTrain::remove);
            Set<String> onlyVal = new TreeSet<>(valClasses);
            classes.forEach(onlyVal::remove);
            throw new IllegalArgumentException("image folder " + dir + ": train has " + classes.size()
                    + " class folders, val has " + valClasses.size() + "; expected the same classes. Only in train: "
                    + few(onlyTrain) + "; only in val: " + few(onlyVal));
        }
        if (classes.isEmpty()) {
            throw new IllegalArgumentException("image folder " + dir + ": " + trainDir
                    + " has no class folders; expected train/<class>/*.jpg|jpeg|png");
        }
        Listing train = list(trainDir, classes);
        Listing val = list(valDir, classes);
        String name = dir.getFileName() == null ? "image-folder" : dir.getFileName().toString();
        LOG.info("{}: {} training and {} validation images in {} classes from {}, input {}x{}", name,
                train.files.length, val.files.length, classes.size(), dir, size, size);
        return new ImageFolderDataset(name, size, List.copyOf(classes), train, val, DataOptions.DEFAULTS);
    }

    private static String few(Set<String> names) {
        int shown = 10;
        String head = names.stream().limit(shown).collect(Collectors.joining(", ", "[", "]"));
        return names.size() > shown ? head + " and " + (names.size() - shown) + " more" : head;
    }

    /** @return the names of the sub-folders of {@code dir}, sorted */
    private static List<String> classFolders(Path dir) {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted()
                    .collect(Collectors.toList());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e, e);
        }
    }

    /** Lists a split's images with DataVec's FileSplit and labels them with its ParentPathLabelGenerator. */
    static Listing list(Path dir, List<String> classes) {
        FileSplit split = new FileSplit(dir.toFile(), null, true);
        ParentPathLabelGenerator labeler = new ParentPathLabelGenerator();
        List<String> files = new ArrayList<>();
        int skipped = 0;
        for (Iterator<URI> it = split.locationsIterator(); it.hasNext(); ) {
            URI uri = it.next();
            Path file = Path.of(uri);
            String fileName = file.getFileName().toString();
            int dot = fileName.lastIndexOf('.');
            if (dot < 0 || !EXTENSIONS.contains(fileName.substring(dot + 1).toLowerCase(Locale.ROOT))) {
                skipped++;
                continue;
            }
            if (!dir.equals(file.getParent().getParent())) {
                throw new IllegalArgumentException(file + ": an image outside a class folder; expected images at "
                        + dir + "/<class>/<image>");
            }
            files.add(dir.relativize(file).toString());
        }
        if (skipped > 0) {
            LOG.debug("{}: skipped {} files that are not .jpg, .jpeg or .png", dir, skipped);
        }
        Collections.sort(files);
        String[] paths = files.toArray(new String[0]);
        int[] labels = new int[paths.length];
        int[] perClass = new int[classes.size()];
        for (int i = 0; i < paths.length; i++) {
            String label = labeler.getLabelForPath(dir.resolve(paths[i]).toUri()).toString();
            labels[i] = Collections.binarySearch(classes, label);
            if (labels[i] < 0) {
                throw new IllegalStateException(dir.resolve(paths[i]) + ": class folder " + label
                        + " is not among the listed class folders of " + dir);
            }
            perClass[labels[i]]++;
        }
        for (int c = 0; c < perClass.length; c++) {
            if (perClass[c] == 0) {
                throw new IllegalArgumentException(dir.resolve(classes.get(c)) + ": a class folder without images; "
                        + "expected at least one .jpg, .jpeg or .png file");
            }
        }
        return new Listing(dir, paths, labels);
    }

    @Override
    public int trainExamples() {
        return trainExamples.length;
    }

    @Override
    public int testExamples() {
        return val.files.length;
    }

    @Override
    public DataOptions options() {
        return options;
    }

    @Override
    public ImageDataset withOptions(DataOptions newOptions) {
        return new ImageFolderDataset(name(), size, classNames(), train, val, newOptions);
    }

    @Override
    public EpochBatches train(int batchSize, long seed) {
        return new ShuffledEpochs(source(train), trainExamples, batchSize, seed, options.dataType());
    }

    /** The validation split, resized and centre-cropped. */
    @Override
    public DataSetIterator test(int batchSize) {
        ShuffledEpochs.checkBatchSize(batchSize);
        int[] order = new int[val.files.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        return new BatchIterator(source(val), order, batchSize, false, 0L, 0, options.dataType());
    }

    private ImageFolderSource source(Listing listing) {
        return new ImageFolderSource(listing.dir, listing.files, listing.labels, classNames(), size, options.flip(),
                ChannelStats.IMAGENET);
    }

    @Override
    public String inputNormalization() {
        return "resized and centre-cropped to " + size + "x" + size + ", " + ChannelStats.IMAGENET.formula();
    }

    @Override
    public String toString() {
        return name() + " (" + trainExamples.length + " training, " + val.files.length + " validation images, "
                + numClasses() + " classes, input " + size + "x" + size + ", " + options + ")";
    }
}
