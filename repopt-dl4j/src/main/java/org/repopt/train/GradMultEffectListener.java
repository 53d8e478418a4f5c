package org.repopt.train;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.solvers.BaseOptimizer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.nd4j.shade.jackson.databind.node.ObjectNode;
import org.repopt.gr.GradMultHook;
import org.repopt.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A DL4J {@code TrainingListener} that shows what DL4J's training UI cannot: per re-parameterized kernel, what its
 * Grad Mult does to the gradient, and how large the resulting update is.
 *
 * <p>Every {@code every}-th iteration (0, every, 2*every, ...) it reports, for each parameter that has a Grad Mult
 * ({@link GradMultEffect}): the norm of the raw gradient, the norm of the multiplied gradient and the cosine between
 * the two (how much the multiplier turns the direction), the norm of the update the updater applied and the
 * update:parameter ratio. Attach it like any DL4J listener ({@code net.addListeners(...)}); it works on a
 * {@code ComputationGraph} and a {@code MultiLayerNetwork}.
 *
 * <p>How: in {@code onGradientCalculation} DL4J hands the listener the raw gradient, before any regularization or
 * updater; the listener applies the parameter's own configured {@code BEFORE_UPDATER} Grad Mults to a copy of it
 * ({@link GradMultHook#multiply}: the multiplier only, not the L2 term the SGD form's hook also carries). So the
 * figures come from the network's configuration through DL4J's public {@link Regularization} contract, whatever the
 * hook computes inside. In {@code iterationDone} the gradient view
 * holds the update that was subtracted from the parameters. For the AdamW form the second, {@code POST_UPDATER}
 * multiplication shows in the update, not in the multiplied gradient.
 */
public final class GradMultEffectListener extends BaseTrainingListener {

    /** The file name {@link #toJsonLines} is meant for, next to the trainer's {@code metrics.jsonl}. */
    public static final String FILE = "grad-mult.jsonl";

    /** Which regularizations of a parameter are Grad Mults: the {@code BEFORE_UPDATER} {@link GradMultHook}s. */
    static final Predicate<Regularization> IS_GRAD_MULT =
            r -> r instanceof GradMultHook && r.applyStep() == Regularization.ApplyStep.BEFORE_UPDATER;

    private final int every;
    private final Consumer<List<GradMultEffect>> sink;
    private final Map<String, Pending> pending = new LinkedHashMap<>();
    private int pendingIteration = -1;

    /**
     * @param every report every {@code every}-th iteration, {@code >= 1}
     * @param sink  receives one list per reported iteration, one entry per parameter with a Grad Mult
     */
    public GradMultEffectListener(int every, Consumer<List<GradMultEffect>> sink) {
        if (every < 1) {
            throw new IllegalArgumentException("every must be >= 1, got " + every);
        }
        this.every = every;
        this.sink = Objects.requireNonNull(sink, "sink");
    }

    /**
     * A listener that appends one JSON object per parameter and reported iteration to {@code file} (created if
     * absent), e.g. {@code {"iteration":0,"epoch":0,"layer":"stage1.0.conv3x3","param":"W","grad_norm":...,
     * "mult_grad_norm":...,"gain":...,"cosine":...,"update_norm":...,"param_norm":...,"update_param_ratio":...}}.
     * A run resumed from a checkpoint continues the file: before its first report, the lines of that iteration and
     * later ones (written after the checkpoint by the interrupted run) are dropped, atomically.
     *
     * @param file  the JSON-lines file, e.g. {@code runDir.resolve(GradMultEffectListener.FILE)}
     * @param every report every {@code every}-th iteration
     * @return the listener
     * @throws UncheckedIOException from the training thread when the file cannot be read or written
     * @throws IllegalStateException from the training thread when an existing line is not such a JSON object
     */
    public static GradMultEffectListener toJsonLines(Path file, int every) {
        Objects.requireNonNull(file, "file");
        ObjectMapper mapper = new ObjectMapper();
        boolean[] first = {true};
        return new GradMultEffectListener(every, effects -> {
            StringBuilder lines = new StringBuilder();
            for (GradMultEffect e : effects) {
                lines.append(e.toJson(mapper)).append('\n');
            }
            try {
                if (first[0] && Files.exists(file)) {
                    dropFrom(file, effects.get(0).iteration(), mapper);
                }
                first[0] = false;
                Files.write(file, lines.toString().getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            } catch (IOException ex) {
                throw new UncheckedIOException("cannot append the Grad Mult effect to " + file, ex);
            }
        });
    }

    /** Rewrites {@code file} without its lines of iteration {@code iteration} and later. */
    private static void dropFrom(Path file, int iteration, ObjectMapper mapper) throws IOException {
        StringBuilder kept = new StringBuilder();
        int lineNumber = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode it;
            try {
                it = mapper.readTree(line).get("iteration");
            } catch (IOException e) {
                throw new IllegalStateException(file + " line " + lineNumber + " is not JSON: " + e.getMessage(), e);
            }
            if (it == null || !it.isInt()) {
                throw new IllegalStateException(file + " line " + lineNumber + " has no integer \"iteration\"");
            }
            if (it.asInt() < iteration) {
                kept.append(line).append('\n');
            }
        }
        byte[] bytes = kept.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, out -> out.write(bytes));
    }

    /** What one Grad Mult parameter looked like before its update. */
    private record Pending(Layer layer, String param, String key, double gradNorm, double multipliedGradNorm,
                           double cosine, double paramNorm) {
    }

    @Override
    public void onGradientCalculation(Model model) {
        int iteration = BaseOptimizer.getIterationCount(model);
        pending.clear();
        pendingIteration = -1;
        if (iteration % every != 0) {
            return;
        }
        Gradient gradient = model.gradient();
        for (Layer layer : layers(model)) {
            org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
            for (String param : layer.paramTable().keySet()) {
                List<Regularization> regs = conf.getRegularizationByParam(param);
                List<Regularization> mults = new ArrayList<>();
                if (regs != null) {
                    regs.stream().filter(IS_GRAD_MULT).forEach(mults::add);
                }
                if (mults.isEmpty()) {
                    continue;
                }
                String key = key(model, layer, param);
                INDArray raw = gradient.getGradientFor(key);
                if (raw == null) {
                    throw new IllegalStateException("layer '" + conf.getLayerName() + "': no gradient for " + key);
                }
                INDArray w = layer.getParam(param);
                INDArray multiplied = raw.dup();
                for (Regularization r : mults) {
                    ((GradMultHook) r).multiply(multiplied);   // the multiplier only, not a fused L2 term
                }
                double rawNorm = raw.norm2Number().doubleValue();
                double multNorm = multiplied.norm2Number().doubleValue();
                double dot = raw.mul(multiplied).sumNumber().doubleValue();
                double cosine = rawNorm == 0 || multNorm == 0 ? Double.NaN : dot / (rawNorm * multNorm);
                pending.put(key, new Pending(layer, param, key, rawNorm, multNorm, cosine,
                        w.norm2Number().doubleValue()));
            }
        }
        pendingIteration = iteration;
    }

    @Override
    public void iterationDone(Model model, int iteration, int epoch) {
        if (pendingIteration != iteration || pending.isEmpty()) {
            return;
        }
        Gradient update = model.gradient();
        List<GradMultEffect> out = new ArrayList<>(pending.size());
        for (Pending p : pending.values()) {
            INDArray u = update.getGradientFor(p.key());
            double updateNorm = u == null ? Double.NaN : u.norm2Number().doubleValue();
            out.add(new GradMultEffect(iteration, epoch, p.layer().conf().getLayer().getLayerName(), p.param(),
                    p.gradNorm(), p.multipliedGradNorm(), p.cosine(), updateNorm, p.paramNorm()));
        }
        pending.clear();
        pendingIteration = -1;
        sink.accept(out);
    }

    private static Layer[] layers(Model model) {
        if (model instanceof ComputationGraph) {
            return ((ComputationGraph) model).getLayers();
        }
        if (model instanceof MultiLayerNetwork) {
            return ((MultiLayerNetwork) model).getLayers();
        }
        throw new IllegalArgumentException("GradMultEffectListener works on a ComputationGraph or a "
                + "MultiLayerNetwork, got " + model.getClass().getName());
    }

    /** DL4J's gradient keys: {@code <vertex name>_<param>} in a graph, {@code <layer index>_<param>} in an MLN. */
    private static String key(Model model, Layer layer, String param) {
        String owner = model instanceof ComputationGraph ? layer.conf().getLayer().getLayerName()
                : Integer.toString(layer.getIndex());
        return owner + "_" + param;
    }

    /**
     * The Grad Mult's effect on one parameter at one iteration.
     *
     * @param iteration          the network's iteration count when the gradient was computed
     * @param epoch              its epoch count
     * @param layer              the layer's name
     * @param param              the parameter's key within the layer (a conv kernel: {@code W})
     * @param gradNorm           L2 norm of the raw gradient (before Grad Mult, weight decay and updater)
     * @param multipliedGradNorm L2 norm of the gradient multiplied by the Grad Mult
     * @param cosine             cosine between the raw and the multiplied gradient
     * @param updateNorm         L2 norm of the update the updater applied (momentum and weight decay included)
     * @param paramNorm          L2 norm of the parameter before the update
     */
    public record GradMultEffect(int iteration, int epoch, String layer, String param, double gradNorm,
                                 double multipliedGradNorm, double cosine, double updateNorm, double paramNorm) {

        /** @return how much the Grad Mult scales the gradient's norm */
        public double gain() {
            return multipliedGradNorm / gradNorm;
        }

        /** @return the update's norm over the parameter's norm (DL4J's UI shows mean magnitudes instead) */
        public double updateParamRatio() {
            return updateNorm / paramNorm;
        }

        String toJson(ObjectMapper mapper) {
            ObjectNode o = mapper.createObjectNode();
            o.put("iteration", iteration);
            o.put("epoch", epoch);
            o.put("layer", layer);
            o.put("param", param);
            putFinite(o, "grad_norm", gradNorm);
            putFinite(o, "mult_grad_norm", multipliedGradNorm);
            putFinite(o, "gain", gain());
            putFinite(o, "cosine", cosine);
            putFinite(o, "update_norm", updateNorm);
            putFinite(o, "param_norm", paramNorm);
            putFinite(o, "update_param_ratio", updateParamRatio());
            return o.toString();
        }

        /** JSON has no NaN: a zero gradient's cosine or gain is written as {@code null}. */
        private static void putFinite(ObjectNode o, String key, double v) {
            if (Double.isFinite(v)) {
                o.put(key, v);
            } else {
                o.putNull(key);
            }
        }
    }
}
