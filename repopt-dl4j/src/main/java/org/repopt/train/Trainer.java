package org.repopt.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.backend.Nd4jRandom;
import org.repopt.io.AtomicFiles;
import org.repopt.io.JsonFormatException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.LongSupplier;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The training loop: trains a {@code ComputationGraph} with one NCHW input and one softmax/MCXENT output on an
 * {@link ImageDataset}, with the paper's per-iteration {@link WarmupCosineSchedule}, optional
 * {@link LabelSmoothing}, a test evaluation, a checkpoint and a {@code metrics.jsonl} line after every epoch.
 *
 * <pre>{@code
 * ComputationGraph net = RepOptimizer.sgd(ScalesFile.released("B1")).applyTo(conf);
 * TrainResult r = new Trainer(TrainConfig.builder(dir).epochs(120).build(), System.err).train(net, data);
 * // after an interruption:
 * TrainResult r = new Trainer(sameConfig, System.err).resume(data);
 * }</pre>
 *
 * <p><b>The learning rate</b> of a run is {@link TrainConfig#learningRate()}, the peak of its schedule: the Trainer
 * installs the schedule on every updater of the network, replacing whatever rate the updaters were built with
 * (all other updater settings stay). A network handed to the Trainer needs updaters with a learning rate, not a
 * particular one.
 *
 * <p><b>The run folder</b> ({@link TrainConfig#outputDir()}) is held through a {@link RunFolder} for the whole run:
 * a second run into it is refused while this one lives, and a run is refused where another run's files are, before
 * anything is written. What a run writes there:
 * <ul>
 *   <li>{@code checkpoint-epoch-NNNN.zip}: the network after a finished epoch ({@code ModelSerializer} with updater
 *       state; the configuration carries the schedule and the iteration and epoch counts), the last two kept, and
 *       {@code checkpoint.json} naming them with their SHA-256 ({@link CheckpointStore}: atomic, verified on resume,
 *       falling back to the previous checkpoint when the last one is damaged);</li>
 *   <li>{@value #METRICS_FILE}: one JSON object per epoch ({@link EpochResult}).</li>
 * </ul>
 *
 * <p><b>Resuming is exact</b>: the optimizer state and the schedule position come from the checkpoint, epoch
 * {@code e}'s batches depend only on the seed and {@code e} ({@link EpochBatches}), and ND4J's random generator is
 * re-seeded from the seed and the epoch at the start of each epoch ({@link Nd4jRandom}), so an interrupted and
 * resumed run ends with the parameters of an uninterrupted one, bit for bit.
 *
 * <p><b>Divergence</b>: after every batch the loss is checked, and after every epoch, before its checkpoint, every
 * parameter (BatchNorm running statistics included) and the updater state; NaN or infinity stops the run with a
 * {@link TrainingDivergedException} and leaves the last good checkpoint as it was.
 *
 * <p><b>Extension points</b>: {@link #withListener} (called after each epoch's checkpoint),
 * {@link #withTrainingListeners} (DL4J {@link TrainingListener}s attached to the network for the run, told of every
 * iteration and of each epoch's start and end) and {@link #withEpochFitter} (how one epoch's batches are fitted;
 * {@link EpochFitter#LOCAL} by default). Progress goes only to the {@code PrintStream} given to the constructor;
 * everything else is logged through SLF4J.
 */
public final class Trainer {

    /** The per-epoch metrics file in the output folder. */
    public static final String METRICS_FILE = "metrics.jsonl";
    /**
     * Top-5 accuracy is reported only for data sets with more classes than this (CIFAR-100, ImageNet), not for the
     * 10-class sets where it is close to 100% and says little.
     */
    public static final int TOP5_CLASS_THRESHOLD = 10;

    /** The prefix of the fitter's trajectory fields in a checkpoint's configuration. */
    public static final String FITTER_FIELD_PREFIX = "fitter.";

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainConfig config;
    private final PrintStream progressOut;
    private final List<EpochListener> listeners;
    private final List<TrainingListener> trainingListeners;
    private final EpochFitter fitter;
    private final LongSupplier clock;
    private final ObjectMapper mapper = new ObjectMapper();

    /**
     * @param config      what to do
     * @param progressOut where the progress bar and per-epoch summaries go when {@link TrainConfig#progress()}
     */
    public Trainer(TrainConfig config, PrintStream progressOut) {
        this(config, progressOut, List.of(), List.of(), EpochFitter.LOCAL);
    }

    private Trainer(TrainConfig config, PrintStream progressOut, List<EpochListener> listeners,
                    List<TrainingListener> trainingListeners, EpochFitter fitter) {
        this.config = Objects.requireNonNull(config, "config");
        this.progressOut = Objects.requireNonNull(progressOut, "progressOut");
        this.listeners = List.copyOf(listeners);
        this.trainingListeners = List.copyOf(trainingListeners);
        this.fitter = Objects.requireNonNull(fitter, "fitter");
        this.clock = System::nanoTime;
    }

    /**
     * @param listener called after each epoch's checkpoint
     * @return a trainer that also calls {@code listener}
     */
    public Trainer withListener(EpochListener listener) {
        List<EpochListener> all = new ArrayList<>(listeners);
        all.add(Objects.requireNonNull(listener, "listener"));
        return new Trainer(config, progressOut, all, trainingListeners, fitter);
    }

    /**
     * @param more DL4J listeners to attach to the network for the run (after the network's own, which stay): told
     *             of every iteration by DL4J, and of each epoch's start and end by the Trainer; detached when the run
     *             ends
     * @return a trainer that also attaches {@code more}
     */
    public Trainer withTrainingListeners(TrainingListener... more) {
        List<TrainingListener> all = new ArrayList<>(trainingListeners);
        for (TrainingListener l : more) {
            all.add(Objects.requireNonNull(l, "listener"));
        }
        return new Trainer(config, progressOut, listeners, all, fitter);
    }

    /**
     * @param epochFitter how each epoch's batches are fitted (see {@link EpochFitter} for the contract); its
     *                    {@link EpochFitter#trajectoryFields()} join the configuration a checkpoint records (under
     *                    {@value #FITTER_FIELD_PREFIX}), so a run resumes only under the same ones. The caller closes
     *                    it.
     * @return a trainer that fits with {@code epochFitter}
     */
    public Trainer withEpochFitter(EpochFitter epochFitter) {
        return new Trainer(config, progressOut, listeners, trainingListeners, epochFitter);
    }

    /** @return the configuration */
    public TrainConfig config() {
        return config;
    }

    /**
     * @param outputDir a run folder
     * @return the model zip of its newest intact checkpoint (the previous one, with a warning, when the newest was
     * damaged), if it holds one
     * @throws IOException                 when {@code checkpoint.json} exists but cannot be read
     * @throws CheckpointUnusableException when it holds checkpoints but none is intact
     */
    public static Optional<Path> latestCheckpoint(Path outputDir) throws IOException {
        return new CheckpointStore(outputDir).latestIntact();
    }

    /**
     * @param outputDir a run folder holding a checkpoint
     * @return a builder holding the values the run was started with ({@link TrainConfig#trajectoryFields()}, as its
     * checkpoint records them) and writing into {@code outputDir}; resuming needs exactly these (and the same
     * fitter's fields, which the checkpoint keeps under {@value #FITTER_FIELD_PREFIX})
     * @throws RunFolderException  when the folder holds no checkpoint
     * @throws IOException         when {@code checkpoint.json} cannot be read
     * @throws JsonFormatException when it is not valid
     */
    public static TrainConfig.Builder savedConfig(Path outputDir) throws IOException {
        CheckpointStore store = new CheckpointStore(outputDir);
        if (!store.exists()) {
            throw RunFolder.nothingToResume(outputDir);
        }
        Map<String, String> fields = new LinkedHashMap<>(store.readDocument().state().config());
        fields.keySet().removeIf(k -> k.startsWith(FITTER_FIELD_PREFIX));
        return TrainConfig.fromTrajectoryFields(outputDir, fields, store.stateFile().toString());
    }

    /**
     * @param outputDir a run folder holding a checkpoint
     * @return the trajectory fields of the {@link EpochFitter} the run was trained with (empty for
     * {@link EpochFitter#LOCAL}), as its checkpoint records them; resuming needs a fitter with exactly these
     * @throws RunFolderException  when the folder holds no checkpoint
     * @throws IOException         when {@code checkpoint.json} cannot be read
     * @throws JsonFormatException when it is not valid
     */
    public static Map<String, String> savedFitterFields(Path outputDir) throws IOException {
        CheckpointStore store = new CheckpointStore(outputDir);
        if (!store.exists()) {
            throw RunFolder.nothingToResume(outputDir);
        }
        Map<String, String> fields = new LinkedHashMap<>();
        store.readDocument().state().config().forEach((k, v) -> {
            if (k.startsWith(FITTER_FIELD_PREFIX)) {
                fields.put(k.substring(FITTER_FIELD_PREFIX.length()), v);
            }
        });
        return fields;
    }

    /**
     * Starts a new run in {@link TrainConfig#outputDir()}: holds the folder ({@link RunFolder#startNew}), then
     * {@link #train(ComputationGraph, ImageDataset, RunFolder)}.
     *
     * @param net  a network configured for training (e.g. by {@code RepOptimizer...applyTo}), one input, one
     *             softmax/MCXENT output with {@code data.numClasses()} units
     * @param data the data set
     * @return the result
     * @throws RunFolderException         when the folder holds a run or is in use (nothing is written)
     * @throws IllegalArgumentException   when the network does not fit the data set or has no learning rate
     * @throws TrainingDivergedException when training diverges
     * @throws IOException                when a checkpoint or the metrics cannot be written
     */
    public TrainResult train(ComputationGraph net, ImageDataset data) throws IOException {
        try (RunFolder run = RunFolder.startNew(config.outputDir())) {
            return train(net, data, run);
        }
    }

    /**
     * Starts a new run in a folder the caller holds: sets the network's iteration and epoch counts to 0, installs
     * the learning-rate schedule on every layer (replacing the updaters' learning rate; all other updater settings
     * stay) with a fresh updater state, and trains {@code net} in place.
     *
     * @param net  a network configured for training, one input, one softmax/MCXENT output
     * @param data the data set
     * @param run  the run folder, from {@link RunFolder#startNew} of {@link TrainConfig#outputDir()}
     * @return the result
     * @throws IllegalArgumentException   when the network does not fit the data set or has no learning rate
     * @throws TrainingDivergedException when training diverges
     * @throws IOException                when a checkpoint or the metrics cannot be written
     */
    public TrainResult train(ComputationGraph net, ImageDataset data, RunFolder run) throws IOException {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(data, "data");
        long sessionStart = clock.getAsLong();
        requireOwnFolder(run);
        checkNetwork(net, data);
        EpochBatches batches = data.train(config.batchSize(), config.seed());
        WarmupCosineSchedule schedule = schedule(batches);
        net.getConfiguration().setIterationCount(0);
        net.getConfiguration().setEpochCount(0);
        installSchedule(net, schedule);
        AtomicFiles.write(metricsFile(), out -> { });
        LOG.info("training on {} for {} epochs of {} batches of {} ({}), into {}", data.name(), config.epochs(),
                batches.batchesPerEpoch(), config.batchSize(), schedule, config.outputDir());
        return run(new Session(net, data, batches, schedule, new CheckpointStore(config.outputDir()), List.of(),
                null, sessionStart));
    }

    /**
     * Continues the run in {@link TrainConfig#outputDir()}: holds the folder ({@link RunFolder#resume}), then
     * {@link #resume(ImageDataset, RunFolder)}.
     *
     * @param data the data set the run was started on
     * @return the result of the whole run
     * @throws RunFolderException           when the folder holds no checkpoint or is in use
     * @throws IllegalStateException        when the checkpoint was written under another configuration or data set
     * @throws CheckpointUnusableException when no kept checkpoint is intact
     * @throws TrainingDivergedException   when training diverges
     * @throws IOException                  when the checkpoint cannot be read or a new one cannot be written
     */
    public TrainResult resume(ImageDataset data) throws IOException {
        try (RunFolder run = RunFolder.resume(config.outputDir())) {
            return resume(data, run);
        }
    }

    /**
     * Continues a run in a folder the caller holds, from its last intact checkpoint (the previous one, with a
     * warning, when the last is damaged), with the same optimizer state, schedule position and data order.
     * Resuming a finished run trains nothing and returns its result.
     *
     * @param data the data set the run was started on
     * @param run  the run folder, from {@link RunFolder#resume} of {@link TrainConfig#outputDir()}
     * @return the result of the whole run
     * @throws IllegalStateException        when the checkpoint was written under another configuration or data set
     * @throws CheckpointUnusableException when no kept checkpoint is intact
     * @throws TrainingDivergedException   when training diverges
     * @throws IOException                  when the checkpoint cannot be read or a new one cannot be written
     */
    public TrainResult resume(ImageDataset data, RunFolder run) throws IOException {
        Objects.requireNonNull(data, "data");
        long sessionStart = clock.getAsLong();
        requireOwnFolder(run);
        CheckpointStore store = new CheckpointStore(config.outputDir());
        CheckpointStore.Document doc = store.readDocument();
        EpochBatches batches = data.train(config.batchSize(), config.seed());
        requireSame(store.stateFile(), "configuration", doc.state().config(),
                CheckpointState.asText(trajectoryFields()));
        requireSame(store.stateFile(), "data set", doc.state().data(), dataFingerprint(data, batches));
        CheckpointStore.Restored restored = store.restore(doc);
        ComputationGraph net = restored.network();
        checkNetwork(net, data);
        WarmupCosineSchedule schedule = schedule(batches);
        requireSchedule(net, schedule, restored.file());
        // the metrics file may hold lines of epochs the checkpoint does not cover; it restarts from the history
        StringBuilder lines = new StringBuilder();
        for (EpochResult r : restored.state().history()) {
            lines.append(mapper.writeValueAsString(r.toJson(mapper))).append('\n');
        }
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(metricsFile(), out -> out.write(bytes));
        LOG.info("resuming {} after epoch {} of {} from {}", data.name(), restored.state().epochsCompleted(),
                config.epochs(), restored.file());
        Session session = new Session(net, data, batches, schedule, store, restored.state().history(),
                restored.file(), sessionStart);
        restored.fallback().ifPresent(note -> session.bar.line("warning: " + note));
        return run(session);
    }

    /** @return the configuration's trajectory fields and the fitter's, as a checkpoint records them */
    private Map<String, Object> trajectoryFields() {
        Map<String, Object> m = new LinkedHashMap<>(config.trajectoryFields());
        fitter.trajectoryFields().forEach((k, v) -> m.put(FITTER_FIELD_PREFIX + k, v));
        return m;
    }

    private void requireOwnFolder(RunFolder run) {
        Objects.requireNonNull(run, "run");
        if (!run.dir().toAbsolutePath().normalize().equals(config.outputDir().toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("the run folder held is " + run.dir() + ", but the configuration's "
                    + "output folder is " + config.outputDir());
        }
    }

    private Path metricsFile() {
        return config.outputDir().resolve(METRICS_FILE);
    }

    /** One session of a run: what the epochs of {@link #run} share. */
    private final class Session {
        final ComputationGraph net;
        final ImageDataset data;
        final EpochBatches batches;
        final WarmupCosineSchedule schedule;
        final CheckpointStore store;
        final List<EpochResult> history;
        final int startEpoch;
        final long sessionStart;
        final ProgressBar bar;
        final LabelSmoothing smoothing;
        final DataType type;
        Path checkpoint;
        long trainNanos;
        long iterations;

        Session(ComputationGraph net, ImageDataset data, EpochBatches batches, WarmupCosineSchedule schedule,
                CheckpointStore store, List<EpochResult> history, Path checkpoint, long sessionStart) {
            this.net = net;
            this.data = data;
            this.batches = batches;
            this.schedule = schedule;
            this.store = store;
            this.history = new ArrayList<>(history);
            this.startEpoch = history.size();
            this.checkpoint = checkpoint;
            this.sessionStart = sessionStart;
            this.bar = new ProgressBar(config.progress() ? progressOut : null, config.epochs(), clock);
            this.smoothing = config.labelSmoothing() > 0 ? new LabelSmoothing(config.labelSmoothing()) : null;
            this.type = net.getConfiguration().getDataType();
        }
    }

    private TrainResult run(Session s) throws IOException {
        if (s.startEpoch > 0 && s.startEpoch < config.epochs()) {
            s.bar.line("resuming after epoch " + s.startEpoch + "/" + config.epochs() + " from " + s.checkpoint);
        }
        Collection<TrainingListener> own = new ArrayList<>(s.net.getListeners());
        if (!trainingListeners.isEmpty()) {
            List<TrainingListener> all = new ArrayList<>(own);
            all.addAll(trainingListeners);
            s.net.setListeners(all);
        }
        try {
            for (int e = s.startEpoch; e < config.epochs(); e++) {
                EpochResult result = epoch(s, e);
                s.history.add(result);
                appendMetrics(result);
                s.checkpoint = s.store.save(s.net, new CheckpointState(CheckpointStore.modelFileName(e + 1), e + 1,
                        s.net.getIterationCount(), CheckpointState.asText(trajectoryFields()),
                        dataFingerprint(s.data, s.batches), s.history));
                String summary = result.summary(config.epochs());
                s.bar.line(summary);
                LOG.info("{}; checkpoint {}", summary, s.checkpoint);
                for (EpochListener listener : listeners) {
                    listener.epochDone(result, s.net, s.checkpoint);
                }
            }
        } finally {
            if (!trainingListeners.isEmpty()) {
                s.net.setListeners(own);
            }
        }
        return finish(s);
    }

    /** Trains epoch {@code e} (0-based), checks the network's state, evaluates if due; saves nothing. */
    private EpochResult epoch(Session s, int e) {
        long epochStart = clock.getAsLong();
        Nd4jRandom.reseed(epochSeed(config.seed(), e));
        s.net.getListeners().forEach(l -> l.onEpochStart(s.net));
        EpochProgress progress = new EpochProgress(s, e, epochStart);
        fitter.fit(s.net, new PreparedBatches(s, e), progress);
        long trainNanos = clock.getAsLong() - epochStart;
        if (progress.done != s.batches.batchesPerEpoch()) {
            throw batchCountMismatch(s.data, e, Integer.toString(progress.done), s.batches.batchesPerEpoch());
        }
        s.trainNanos += trainNanos;
        s.iterations += progress.done;
        s.net.incrementEpochCount();
        s.net.getListeners().forEach(l -> l.onEpochEnd(s.net));
        double meanLoss = progress.lossSum / progress.examples;
        Optional<String> bad = NonFiniteState.find(s.net);
        if (bad.isPresent()) {
            throw diverged(s, e, bad.get(), meanLoss);
        }
        boolean evaluate = config.evaluateEveryEpoch() || e == config.epochs() - 1;
        Optional<Accuracy> test = evaluate ? Optional.of(evaluate(s, e, meanLoss)) : Optional.empty();
        double trainSeconds = trainNanos / 1e9;
        return new EpochResult(e + 1, s.net.getIterationCount(), meanLoss,
                s.schedule.valueAt(s.net.getIterationCount() - 1, e), test,
                trainSeconds > 0 ? progress.examples / trainSeconds : 0, trainSeconds,
                (clock.getAsLong() - epochStart) / 1e9);
    }

    private TrainingDivergedException diverged(Session s, int e, String what, double meanLoss) {
        int iteration = s.net.getIterationCount() - 1;
        s.bar.line(String.format(Locale.ROOT, "epoch %d/%d: %s holds NaN or infinity after iteration %d, stopped",
                e + 1, config.epochs(), what, iteration));
        return new TrainingDivergedException(e + 1, iteration, what, meanLoss, s.checkpoint);
    }

    /** An epoch's batches as the fitter gets them: counted, cast to the network's type, labels smoothed. */
    private static final class PreparedBatches implements Iterator<DataSet> {
        private final Session s;
        private final int epoch;
        private final DataSetIterator it;
        private int given;

        PreparedBatches(Session s, int epoch) {
            this.s = s;
            this.epoch = epoch;
            this.it = s.batches.epoch(epoch);
        }

        @Override
        public boolean hasNext() {
            return it.hasNext();
        }

        @Override
        public DataSet next() {
            if (given == s.batches.batchesPerEpoch()) {
                throw batchCountMismatch(s.data, epoch, "more than " + given, s.batches.batchesPerEpoch());
            }
            given++;
            return prepare(it.next(), s.type, s.smoothing);
        }
    }

    /** Checks each batch's loss, sums the epoch's loss and drives the progress bar. */
    private final class EpochProgress implements EpochFitter.BatchMonitor {
        private final Session s;
        private final int epoch;
        private final long epochStart;
        int done;
        double lossSum;
        long examples;

        EpochProgress(Session s, int epoch, long epochStart) {
            this.s = s;
            this.epoch = epoch;
            this.epochStart = epochStart;
        }

        @Override
        public void batchDone(double loss, long n) {
            done++;
            if (!Double.isFinite(loss)) {
                int iteration = s.net.getIterationCount() - 1;
                s.bar.line(String.format(Locale.ROOT, "epoch %d/%d: loss %s at iteration %d, stopped", epoch + 1,
                        config.epochs(), loss, iteration));
                throw new TrainingDivergedException(epoch + 1, iteration, loss, s.checkpoint);
            }
            lossSum += loss * n;
            examples += n;
            long trainNanos = clock.getAsLong() - epochStart;
            double secondsPerIteration = (s.trainNanos + trainNanos) / 1e9 / (s.iterations + done);
            int perEpoch = s.batches.batchesPerEpoch();
            long remaining = (long) config.epochs() * perEpoch - s.net.getIterationCount();
            s.bar.batch(epoch + 1, done, perEpoch, loss, examples / Math.max(trainNanos / 1e9, 1e-9),
                    remaining * secondsPerIteration);
        }
    }

    private TrainResult finish(Session s) {
        EpochResult last = s.history.get(s.history.size() - 1);
        Accuracy finalTest = last.test().isPresent() ? last.test().get()
                : evaluate(s, s.history.size() - 1, last.trainLoss());
        double trainSeconds = s.history.stream().mapToDouble(EpochResult::trainSeconds).sum();
        double images = s.history.stream().mapToDouble(r -> r.imagesPerSecond() * r.trainSeconds()).sum();
        TrainResult result = new TrainResult(finalTest, s.history, s.startEpoch,
                trainSeconds > 0 ? images / trainSeconds : 0, (clock.getAsLong() - s.sessionStart) / 1e9,
                s.checkpoint, s.net);
        s.bar.line(result.summary());
        LOG.info("finished: {}", result.summary());
        return result;
    }

    private static IllegalStateException batchCountMismatch(ImageDataset data, int epoch, String got, int announced) {
        return new IllegalStateException("epoch " + (epoch + 1) + " of " + data.name() + " gave " + got
                + " batches, but its EpochBatches announced " + announced + " per epoch, on which the "
                + "learning-rate schedule is built; the checkpoint of the previous epoch is unchanged");
    }

    /** Casts to the network's data type (the data set may deliver another) and smooths the labels. */
    private static DataSet prepare(DataSet ds, DataType type, LabelSmoothing smoothing) {
        INDArray f = ds.getFeatures();
        INDArray l = ds.getLabels();
        DataSet out = new DataSet(f.dataType() == type ? f : f.castTo(type), l.dataType() == type ? l : l.castTo(type),
                ds.getFeaturesMaskArray(), ds.getLabelsMaskArray());
        if (smoothing != null) {
            smoothing.preProcess(out);
        }
        return out;
    }

    /**
     * @return top-1 (and, for more than {@value #TOP5_CLASS_THRESHOLD} classes with {@link TrainConfig#top5()},
     * top-5) accuracy on the test split, in inference mode
     * @throws TrainingDivergedException when a prediction is NaN or infinite
     */
    private Accuracy evaluate(Session s, int epoch, double meanLoss) {
        ComputationGraph net = s.net;
        ImageDataset data = s.data;
        int classes = data.numClasses();
        boolean top5 = config.top5() && classes > TOP5_CLASS_THRESHOLD;
        List<String> names = IntStream.range(0, classes).mapToObj(Integer::toString).collect(Collectors.toList());
        Evaluation evaluation = new Evaluation(names, top5 ? 5 : 1);
        DataType type = net.getConfiguration().getDataType();
        DataSetIterator it = data.test(config.batchSize());
        long rows = 0;
        while (it.hasNext()) {
            DataSet ds = it.next();
            INDArray f = ds.getFeatures();
            INDArray out = net.outputSingle(false, f.dataType() == type ? f : f.castTo(type));
            if (NonFiniteState.hasNonFinite(out)) {
                throw diverged(s, epoch, "the network's prediction on the test split", meanLoss);
            }
            INDArray labels = ds.getLabels();
            evaluation.eval(labels.dataType() == out.dataType() ? labels : labels.castTo(out.dataType()), out);
            rows += f.size(0);
        }
        if (rows == 0) {
            throw new IllegalStateException("the test split of " + data.name() + " is empty");
        }
        return new Accuracy(evaluation.accuracy(),
                top5 ? OptionalDouble.of(evaluation.topNAccuracy()) : OptionalDouble.empty());
    }

    private void appendMetrics(EpochResult r) throws IOException {
        String line = mapper.writeValueAsString(r.toJson(mapper)) + "\n";
        Files.write(metricsFile(), line.getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private WarmupCosineSchedule schedule(EpochBatches batches) {
        return WarmupCosineSchedule.forRun(config.learningRate(), config.minLearningRate(), config.warmupEpochs(),
                config.epochs(), batches.batchesPerEpoch());
    }

    /**
     * @return the seed of ND4J's generator for epoch {@code epoch}: a function of the run's seed and the epoch
     * (re-seeded through {@link Nd4jRandom#reseed}, so that the seed 0 of epoch 0 is a seed too)
     */
    static long epochSeed(long seed, int epoch) {
        return seed * 1_000_003L + epoch;
    }

    private static Map<String, String> dataFingerprint(ImageDataset data, EpochBatches batches) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", data.name());
        m.put("numClasses", data.numClasses());
        m.put("channels", data.channels());
        m.put("height", data.height());
        m.put("width", data.width());
        m.put("trainExamples", batches.examples());
        m.put("batchesPerEpoch", batches.batchesPerEpoch());
        return CheckpointState.asText(m);
    }

    private static void requireSame(Path file, String what, Map<String, String> saved, Map<String, String> now) {
        List<String> diffs = new ArrayList<>();
        for (Map.Entry<String, String> e : now.entrySet()) {
            String was = saved.get(e.getKey());
            if (!e.getValue().equals(was)) {
                diffs.add(e.getKey() + " was " + was + ", now " + e.getValue());
            }
        }
        for (String k : saved.keySet()) {
            if (!now.containsKey(k)) {
                diffs.add(k + " was " + saved.get(k) + ", now absent");
            }
        }
        if (!diffs.isEmpty()) {
            throw new IllegalStateException("cannot resume " + file + ": it was written under another " + what + " ("
                    + String.join("; ", diffs) + "); resume with the checkpoint's values or train into a new "
                    + "directory");
        }
    }

    /**
     * Checks that {@code net} is a graph the trainer can train on {@code data}: one input, one output, which is
     * an output layer with softmax activation, MCXENT loss (or its subclass, negative log-likelihood) and one unit
     * per class.
     *
     * @throws IllegalArgumentException naming the output and what does not fit
     */
    static void checkNetwork(ComputationGraph net, ImageDataset data) {
        ComputationGraphConfiguration conf = net.getConfiguration();
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("the trainer needs a graph with one input and one output, got inputs "
                    + conf.getNetworkInputs() + " and outputs " + conf.getNetworkOutputs());
        }
        String name = conf.getNetworkOutputs().get(0);
        GraphVertex vertex = conf.getVertices().get(name);
        Layer layer = vertex instanceof LayerVertex ? ((LayerVertex) vertex).getLayerConf().getLayer() : null;
        if (!(layer instanceof BaseOutputLayer)) {
            throw new IllegalArgumentException("output '" + name + "' must be an output layer with softmax activation "
                    + "and MCXENT loss, got " + (layer == null ? vertex : layer.getClass().getSimpleName()));
        }
        BaseOutputLayer out = (BaseOutputLayer) layer;
        if (!(out.getLossFn() instanceof LossMCXENT) || !(out.getActivationFn() instanceof ActivationSoftmax)) {
            throw new IllegalArgumentException("output '" + name + "' must use softmax activation and MCXENT loss, got "
                    + out.getActivationFn() + " and " + out.getLossFn());
        }
        if (out.getNOut() != data.numClasses()) {
            throw new IllegalArgumentException("output '" + name + "' has " + out.getNOut() + " units, but data set "
                    + data.name() + " has " + data.numClasses() + " classes");
        }
    }

    /**
     * Makes {@code schedule} the learning rate of every updater that has one (weights and biases of every layer),
     * in the configuration that is saved and in the layers that train, then rebuilds the updater with zero state.
     * The updaters are given the schedule's first value as their constant rate (ignored while a schedule is set):
     * DL4J's own {@code setLearningRate(ISchedule)} puts {@code NaN} there, which an updater that validates its
     * rate (as {@code TorchSgd} does) refuses when the configuration is read back. Unlike DL4J's
     * {@code setLearningRate}, which builds a second updater and copies the state into it, at most one updater state
     * exists at any time (a network that had one gets it released first): the way to give a network from
     * {@link ModelFamily} its rate when training without the Trainer.
     *
     * @param net      the network
     * @param schedule the learning rate per iteration ({@code new FixedSchedule(lr)} for a constant one)
     * @throws IllegalArgumentException when no layer has an updater with a learning rate
     */
    public static void installSchedule(ComputationGraph net, ISchedule schedule) {
        double first = schedule.valueAt(0, 0);
        int set = 0;
        for (GraphVertex v : net.getConfiguration().getVertices().values()) {
            if (v instanceof LayerVertex) {
                set += setSchedule(((LayerVertex) v).getLayerConf().getLayer(), schedule, first);
            }
        }
        // the training layers share these objects in DL4J 1.0.0-M2.1; setting both keeps them in step regardless
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            set += setSchedule(l.conf().getLayer(), schedule, first);
        }
        if (set == 0) {
            throw new IllegalArgumentException("no layer of the network has an updater with a learning rate; "
                    + "configure one (e.g. RepOptimizer.sgd(...).applyTo(conf)) before training");
        }
        // the updater blocks hold the updater configurations; rebuild them, starting from zero state
        ComputationGraphUpdater old = net.getUpdater(false);
        INDArray oldState = old == null ? null : old.getStateViewArray();
        net.setUpdater(null);
        if (oldState != null && oldState.closeable()) {
            oldState.close();
        }
        net.getUpdater();
    }

    private static int setSchedule(Layer layer, ISchedule schedule, double first) {
        if (!(layer instanceof BaseLayer)) {
            return 0;
        }
        BaseLayer base = (BaseLayer) layer;
        int set = 0;
        for (IUpdater u : new IUpdater[]{base.getIUpdater(), base.getBiasUpdater()}) {
            if (u != null && u.hasLearningRate()) {
                u.setLrAndSchedule(first, schedule);
                set++;
            }
        }
        return set;
    }

    /** Checks that every layer of a restored network learns at the rate of {@code schedule}. */
    private static void requireSchedule(ComputationGraph net, ISchedule schedule, Path checkpoint) {
        int now = net.getIterationCount();
        for (org.deeplearning4j.nn.api.Layer l : net.getLayers()) {
            Layer layer = l.conf().getLayer();
            if (!(layer instanceof BaseLayer)) {
                continue;
            }
            for (IUpdater u : new IUpdater[]{((BaseLayer) layer).getIUpdater(), ((BaseLayer) layer).getBiasUpdater()}) {
                if (u == null || !u.hasLearningRate()) {
                    continue;
                }
                for (int t : new int[]{0, now}) {
                    double got = u.getLearningRate(t, 0);
                    double want = schedule.valueAt(t, 0);
                    if (Double.compare(got, want) != 0) {
                        throw new IllegalStateException("checkpoint " + checkpoint + ": layer '"
                                + layer.getLayerName() + "' has learning rate " + got + " at iteration " + t
                                + ", but the run's schedule " + schedule + " gives " + want);
                    }
                }
            }
        }
    }
}
