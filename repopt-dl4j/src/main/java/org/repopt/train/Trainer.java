package org.repopt.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.data.EpochBatches;
import org.repopt.data.ImageDataset;
import org.repopt.io.AtomicFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
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
 * <p>What a run writes into {@link TrainConfig#outputDir()}:
 * <ul>
 *   <li>{@code checkpoint-epoch-NNNN.zip}: the network after the last finished epoch ({@code ModelSerializer}
 *       with updater state; the configuration carries the schedule and the iteration and epoch counts), and
 *       {@code checkpoint.json} naming it. The zip is written under its own name first, then {@code checkpoint.json}
 *       is atomically replaced to name it, then the older zip is deleted: no crash or error loses the last good
 *       checkpoint;</li>
 *   <li>{@value #METRICS_FILE}: one JSON object per epoch ({@link EpochResult}).</li>
 * </ul>
 *
 * <p>Resuming is exact: the optimizer state and the schedule position come from the checkpoint, epoch {@code e}'s
 * batches depend only on the seed and {@code e} ({@link EpochBatches}), and ND4J's random generator is re-seeded
 * from the seed and the epoch at the start of each epoch, so an interrupted and resumed run ends with the
 * parameters of an uninterrupted one.
 *
 * <p>After every batch the loss ({@code net.score()}) is checked; NaN or infinity stops the run with a
 * {@link TrainingDivergedException} and leaves the last good checkpoint as it was. Progress goes only to the
 * {@code PrintStream} given to the constructor; everything else is logged through SLF4J.
 */
public final class Trainer {

    /** The per-epoch metrics file in the output folder. */
    public static final String METRICS_FILE = "metrics.jsonl";
    /**
     * Top-5 accuracy is reported only for data sets with more classes than this (CIFAR-100, ImageNet), not for the
     * 10-class sets where it is close to 100% and says little.
     */
    public static final int TOP5_CLASS_THRESHOLD = 10;

    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    private final TrainConfig config;
    private final PrintStream progressOut;
    private final List<EpochListener> listeners;
    private final EpochFitter fitter;
    private final LongSupplier clock;
    private final ObjectMapper mapper = new ObjectMapper();

    /**
     * @param config      what to do
     * @param progressOut where the progress bar and per-epoch summaries go when {@link TrainConfig#progress()}
     */
    public Trainer(TrainConfig config, PrintStream progressOut) {
        this(config, progressOut, List.of(), EpochFitter.LOCAL);
    }

    private Trainer(TrainConfig config, PrintStream progressOut, List<EpochListener> listeners, EpochFitter fitter) {
        this.config = Objects.requireNonNull(config, "config");
        this.progressOut = Objects.requireNonNull(progressOut, "progressOut");
        this.listeners = List.copyOf(listeners);
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
        return new Trainer(config, progressOut, all, fitter);
    }

    /**
     * @param fitter what computes each epoch's optimizer steps (default {@link EpochFitter#LOCAL}; e.g. Spark); its
     *               {@link EpochFitter#trajectoryFields()} join the configuration that a resumed run must match.
     *               The caller closes it.
     * @return a trainer that fits its epochs with {@code fitter}
     */
    public Trainer withEpochFitter(EpochFitter fitter) {
        return new Trainer(config, progressOut, listeners, fitter);
    }

    /** @return the configuration */
    public TrainConfig config() {
        return config;
    }

    /**
     * @param outputDir a run folder
     * @return the model zip of its current checkpoint, if it holds one
     * @throws IOException when {@code checkpoint.json} exists but cannot be read
     */
    public static Optional<Path> latestCheckpoint(Path outputDir) throws IOException {
        CheckpointStore store = new CheckpointStore(outputDir);
        return store.exists() ? Optional.of(store.modelFile(store.read())) : Optional.empty();
    }

    /**
     * Starts a new run: sets the network's iteration and epoch counts to 0, installs the learning-rate schedule on
     * every layer (replacing the updaters' learning rate; all other updater settings stay) with a fresh updater
     * state, and trains {@code net} in place.
     *
     * @param net  a network configured for training (e.g. by {@code RepOptimizer...applyTo}), one input, one
     *             softmax/MCXENT output with {@code data.numClasses()} units
     * @param data the data set
     * @return the result
     * @throws IllegalStateException      when the output folder already holds a run (never overwritten)
     * @throws IllegalArgumentException   when the network does not fit the data set or has no learning rate
     * @throws TrainingDivergedException when the loss becomes NaN or infinite
     * @throws IOException                when a checkpoint or the metrics cannot be written
     */
    public TrainResult train(ComputationGraph net, ImageDataset data) throws IOException {
        Objects.requireNonNull(net, "net");
        Objects.requireNonNull(data, "data");
        long sessionStart = clock.getAsLong();
        Path dir = config.outputDir();
        CheckpointStore store = new CheckpointStore(dir);
        Path metrics = dir.resolve(METRICS_FILE);
        if (store.exists()) {
            throw new IllegalStateException("output directory " + dir + " already holds a run (" + store.stateFile()
                    + "); continue it with Trainer.resume, or train into an empty directory");
        }
        if (Files.exists(metrics)) {
            throw new IllegalStateException("output directory " + dir + " holds " + metrics + " of a run without "
                    + "checkpoint; remove it, or train into an empty directory");
        }
        checkNetwork(net, data);
        EpochBatches batches = data.train(config.batchSize(), config.seed());
        WarmupCosineSchedule schedule = schedule(batches);
        net.getConfiguration().setIterationCount(0);
        net.getConfiguration().setEpochCount(0);
        installSchedule(net, schedule);
        Files.createDirectories(dir);
        AtomicFiles.write(metrics, out -> { });
        LOG.info("training on {} for {} epochs of {} batches of {} ({}), into {}", data.name(), config.epochs(),
                batches.batchesPerEpoch(), config.batchSize(), schedule, dir);
        return run(net, data, batches, schedule, store, new ArrayList<>(), null, sessionStart);
    }

    /**
     * Continues the run in {@link TrainConfig#outputDir()} from its last checkpoint, with the same optimizer
     * state, schedule position and data order. Resuming a finished run trains nothing and returns its result.
     *
     * @param data the data set the run was started on
     * @return the result of the whole run
     * @throws IllegalStateException      when there is no checkpoint, or it was written under another
     *                                    configuration or data set, or is inconsistent
     * @throws TrainingDivergedException when the loss becomes NaN or infinite
     * @throws IOException                when the checkpoint cannot be read or a new one cannot be written
     */
    public TrainResult resume(ImageDataset data) throws IOException {
        Objects.requireNonNull(data, "data");
        long sessionStart = clock.getAsLong();
        CheckpointStore store = new CheckpointStore(config.outputDir());
        if (!store.exists()) {
            throw new IllegalStateException("nothing to resume: " + store.stateFile()
                    + " does not exist; start the run with Trainer.train");
        }
        CheckpointState state = store.read();
        EpochBatches batches = data.train(config.batchSize(), config.seed());
        requireSame(store.stateFile(), "configuration", state.config(),
                CheckpointState.asText(trajectoryFields()));
        requireSame(store.stateFile(), "data set", state.data(), dataFingerprint(data, batches));
        ComputationGraph net = store.loadModel(state);
        Path checkpoint = store.modelFile(state);
        checkNetwork(net, data);
        if (net.getIterationCount() != state.iterations() || net.getEpochCount() != state.epochsCompleted()) {
            throw new IllegalStateException("checkpoint " + checkpoint + " is inconsistent: the network is at "
                    + "iteration " + net.getIterationCount() + ", epoch " + net.getEpochCount() + ", "
                    + store.stateFile() + " says iteration " + state.iterations() + ", epoch "
                    + state.epochsCompleted());
        }
        WarmupCosineSchedule schedule = schedule(batches);
        requireSchedule(net, schedule, checkpoint);
        Path metrics = config.outputDir().resolve(METRICS_FILE);
        // the metrics file may hold lines of epochs the checkpoint does not cover; it restarts from the history
        StringBuilder lines = new StringBuilder();
        for (EpochResult r : state.history()) {
            lines.append(mapper.writeValueAsString(r.toJson(mapper))).append('\n');
        }
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(metrics, out -> out.write(bytes));
        LOG.info("resuming {} after epoch {} of {} from {}", data.name(), state.epochsCompleted(), config.epochs(),
                checkpoint);
        return run(net, data, batches, schedule, store, new ArrayList<>(state.history()), checkpoint, sessionStart);
    }

    /** @return the configuration's trajectory fields and the fitter's, as a checkpoint records them */
    private Map<String, Object> trajectoryFields() {
        Map<String, Object> m = new LinkedHashMap<>(config.trajectoryFields());
        m.putAll(fitter.trajectoryFields());
        return m;
    }

    private TrainResult run(ComputationGraph net, ImageDataset data, EpochBatches batches,
                            WarmupCosineSchedule schedule, CheckpointStore store, List<EpochResult> history,
                            Path lastCheckpoint, long sessionStart) throws IOException {
        int startEpoch = history.size();
        int batchesPerEpoch = batches.batchesPerEpoch();
        DataType type = net.getConfiguration().getDataType();
        LabelSmoothing smoothing = config.labelSmoothing() > 0 ? new LabelSmoothing(config.labelSmoothing()) : null;
        ProgressBar bar = new ProgressBar(config.progress() ? progressOut : null, config.epochs(), clock);
        if (startEpoch > 0 && startEpoch < config.epochs()) {
            bar.line("resuming after epoch " + startEpoch + "/" + config.epochs() + " from " + lastCheckpoint);
        }
        long sessionTrainNanos = 0;
        long sessionIterations = 0;
        Path checkpoint = lastCheckpoint;
        for (int e = startEpoch; e < config.epochs(); e++) {
            long epochStart = clock.getAsLong();
            Nd4j.getRandom().setSeed(epochSeed(config.seed(), e));
            DataSetIterator it = batches.epoch(e);
            Iterator<DataSet> prepared = new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public DataSet next() {
                    return prepare(it.next(), type, smoothing);
                }
            };
            EpochProgress progress = new EpochProgress(net, data, e, batchesPerEpoch, bar, epochStart, sessionTrainNanos,
                    sessionIterations, checkpoint);
            fitter.fit(net, prepared, progress);
            int done = progress.batches;
            long trainNanos = clock.getAsLong() - epochStart;
            if (done != batchesPerEpoch) {
                throw batchCountMismatch(data, e, Integer.toString(done), batchesPerEpoch);
            }
            sessionTrainNanos += trainNanos;
            sessionIterations += done;
            net.incrementEpochCount();
            boolean evaluate = config.evaluateEveryEpoch() || e == config.epochs() - 1;
            Optional<Accuracy> test = evaluate ? Optional.of(evaluate(net, data)) : Optional.empty();
            double trainSeconds = trainNanos / 1e9;
            EpochResult result = new EpochResult(e + 1, net.getIterationCount(), progress.lossSum / progress.examples,
                    schedule.valueAt(net.getIterationCount() - 1, e), test,
                    trainSeconds > 0 ? progress.examples / trainSeconds : 0, trainSeconds,
                    (clock.getAsLong() - epochStart) / 1e9);
            history.add(result);
            appendMetrics(result);
            checkpoint = store.save(net, new CheckpointState(CheckpointStore.modelFileName(e + 1), e + 1,
                    net.getIterationCount(), CheckpointState.asText(trajectoryFields()),
                    dataFingerprint(data, batches), history));
            String summary = result.summary(config.epochs());
            bar.line(summary);
            LOG.info("{}; checkpoint {}", summary, checkpoint);
            for (EpochListener listener : listeners) {
                listener.epochDone(result, net, checkpoint);
            }
        }
        EpochResult last = history.get(history.size() - 1);
        Accuracy finalTest = last.test().isPresent() ? last.test().get() : evaluate(net, data);
        double trainSeconds = history.stream().mapToDouble(EpochResult::trainSeconds).sum();
        double images = history.stream().mapToDouble(r -> r.imagesPerSecond() * r.trainSeconds()).sum();
        TrainResult result = new TrainResult(finalTest, history, startEpoch,
                trainSeconds > 0 ? images / trainSeconds : 0, (clock.getAsLong() - sessionStart) / 1e9, checkpoint, net);
        bar.line(result.summary());
        LOG.info("finished: {}", result.summary());
        return result;
    }

    /**
     * What the trainer does whenever the fitter has updated the network: counts batches against the announced
     * number, stops on a NaN or infinite loss, sums the loss and shows progress.
     */
    private final class EpochProgress implements EpochFitter.BatchMonitor {
        private final ComputationGraph net;
        private final ImageDataset data;
        private final int epoch;
        private final int batchesPerEpoch;
        private final ProgressBar bar;
        private final long epochStart;
        private final long earlierTrainNanos;
        private final long earlierIterations;
        private final Path lastCheckpoint;
        int batches;
        long examples;
        double lossSum;

        EpochProgress(ComputationGraph net, ImageDataset data, int epoch, int batchesPerEpoch, ProgressBar bar,
                   long epochStart, long earlierTrainNanos, long earlierIterations, Path lastCheckpoint) {
            this.net = net;
            this.data = data;
            this.epoch = epoch;
            this.batchesPerEpoch = batchesPerEpoch;
            this.bar = bar;
            this.epochStart = epochStart;
            this.earlierTrainNanos = earlierTrainNanos;
            this.earlierIterations = earlierIterations;
            this.lastCheckpoint = lastCheckpoint;
        }

        @Override
        public void batchDone(double loss, long exampleCount) {
            batches++;
            if (batches > batchesPerEpoch) {
                throw batchCountMismatch(data, epoch, "more than " + batchesPerEpoch, batchesPerEpoch);
            }
            if (!Double.isFinite(loss)) {
                int iteration = net.getIterationCount() - 1;
                bar.line(String.format(Locale.ROOT, "epoch %d/%d: loss %s at iteration %d, stopped", epoch + 1,
                        config.epochs(), loss, iteration));
                throw new TrainingDivergedException(epoch + 1, iteration, loss, lastCheckpoint);
            }
            lossSum += loss * exampleCount;
            examples += exampleCount;
            long trainNanos = clock.getAsLong() - epochStart;
            double secondsPerIteration = (earlierTrainNanos + trainNanos) / 1e9 / (earlierIterations + batches);
            long remaining = (long) config.epochs() * batchesPerEpoch - net.getIterationCount();
            bar.batch(epoch + 1, batches, batchesPerEpoch, loss, examples / Math.max(trainNanos / 1e9, 1e-9),
                    remaining * secondsPerIteration);
        }
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
     */
    private Accuracy evaluate(ComputationGraph net, ImageDataset data) {
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
        Files.write(config.outputDir().resolve(METRICS_FILE), line.getBytes(StandardCharsets.UTF_8),
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private WarmupCosineSchedule schedule(EpochBatches batches) {
        return WarmupCosineSchedule.forRun(config.learningRate(), config.minLearningRate(), config.warmupEpochs(),
                config.epochs(), batches.batchesPerEpoch());
    }

    /** @return the seed of ND4J's generator for epoch {@code epoch}: a function of the run's seed and the epoch */
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
     * rate (as {@code TorchSgd} does) refuses when the configuration is read back.
     *
     * @param net      the network
     * @param schedule the learning rate per iteration
     * @throws IllegalArgumentException when no layer has an updater with a learning rate
     */
    static void installSchedule(ComputationGraph net, ISchedule schedule) {
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
        net.setUpdater(null);
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
