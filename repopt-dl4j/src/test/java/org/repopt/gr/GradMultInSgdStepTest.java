package org.repopt.gr;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.learning.regularization.Regularization.ApplyStep;
import org.nd4j.shade.jackson.databind.ObjectMapper;
import org.repopt.model.RepOptVgg;
import org.repopt.model.VggSpec;
import org.repopt.nn.BlockEngine;
import org.repopt.testing.TinySpecs;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SGD form's Grad Mult folded into {@link TorchSgd}'s step ({@link GradMultHook#sgdInTorchSgdStep}): the same
 * numbers as the hook's own pass followed by the step, bit for bit; a failed update, not a wrong one, where the
 * parameter's updater does not take the Grad Mult.
 */
class GradMultInSgdStepTest {

    private static double[] positive(int n) {
        return GradMultHookTest.positive(n);
    }

    private static boolean cpu() {
        return Nd4j.getBackend().getClass().getSimpleName().startsWith("Cpu");
    }

    /**
     * Two kernels inside one updater block's gradient (as DL4J hands a block over: a bias before, BN parameters
     * after), every kind of block, float and double, with and without L2, Nesterov or not: the step that computes the
     * Grad Mult inside gives the gradient (the update) and the velocity of the hook's pass then the step, bit for bit.
     */
    @Test
    void theStepWithTheGradMultInsideIsTheHookThenTheStepBitForBit() {
        Assumptions.assumeTrue(cpu(), "the fold is the CPU backend's");
        List<BlockScales> kinds = List.of(
                new BlockScales("identity", 5, 5, 1, positive(5), positive(5), positive(5)),
                new BlockScales("stride2", 3, 6, 2, positive(6), positive(6), null),
                new BlockScales("no1x1", 6, 6, 1, 3, 1, positive(6), null, positive(6)),
                new BlockScales("k5", 4, 4, 1, 5, 1, positive(4), positive(4), positive(4)),
                BlockScales.depthwise("dw3-identity", 6, 1, 3, positive(6), positive(6)),
                BlockScales.depthwise("dw5", 6, 2, 5, positive(6), null));
        for (DataType type : List.of(DataType.DOUBLE, DataType.FLOAT)) {
            for (double l2 : new double[]{0.0, 3e-2}) {
                for (boolean nesterov : new boolean[]{true, false}) {
                    for (int i = 0; i < kinds.size(); i++) {
                        BlockScales first = kinds.get(i);
                        BlockScales second = kinds.get((i + 1) % kinds.size());
                        check(type, l2, nesterov, first, second);
                    }
                }
            }
        }
    }

    private static void check(DataType type, double l2, boolean nesterov, BlockScales first, BlockScales second) {
        int n1 = (int) first.kernelLength();
        int n2 = (int) second.kernelLength();
        int at1 = 7;
        int at2 = at1 + n1 + 5;
        int length = at2 + n2 + 11;
        INDArray params = Nd4j.rand(type, 1, length).subi(0.5);
        INDArray grads = Nd4j.rand(type, 1, length).subi(0.5);
        INDArray velocity = Nd4j.rand(type, 1, length).subi(0.5);
        TorchSgd sgd = new TorchSgd(0.1, 0.9, nesterov);
        String what = first.block() + "+" + second.block() + " " + type + " l2=" + l2 + " nesterov=" + nesterov;

        INDArray twoPasses = grads.dup();
        INDArray twoPassesVelocity = velocity.dup();
        GradientUpdater<?> alone = sgd.instantiate(twoPassesVelocity, false);
        for (int k = 0; k < 2; k++) {
            BlockScales s = k == 0 ? first : second;
            int from = k == 0 ? at1 : at2;
            GradMultHook hook = l2 == 0 ? new GradMultHook(s, GradMult.Form.SGD, ApplyStep.BEFORE_UPDATER)
                    : GradMultHook.sgdWithL2(s, l2);
            hook.apply(slice(params, from, s), slice(twoPasses, from, s), 0.1, 0, 0);
        }
        alone.applyUpdater(twoPasses, 0, 0);

        INDArray onePass = grads.dup();
        INDArray onePassVelocity = velocity.dup();
        GradientUpdater<?> folded = sgd.instantiate(onePassVelocity, false);
        for (int k = 0; k < 2; k++) {
            BlockScales s = k == 0 ? first : second;
            int from = k == 0 ? at1 : at2;
            GradMultHook.sgdInTorchSgdStep(s, l2).apply(slice(params, from, s), slice(onePass, from, s), 0.1, 0, 0);
        }
        assertEquals(grads, onePass, what + ": the hook left its pass to the step");
        folded.applyUpdater(onePass, 0, 0);
        assertTrue(DeferredGradMults.take().isEmpty(), what + ": the step took every kernel");

        assertArrayEquals(twoPasses.data().asDouble(), onePass.data().asDouble(), 0.0, what + ": update");
        assertArrayEquals(twoPassesVelocity.data().asDouble(), onePassVelocity.data().asDouble(), 0.0,
                what + ": velocity");
    }

    private static INDArray slice(INDArray row, int from, BlockScales s) {
        return row.get(NDArrayIndex.point(0), NDArrayIndex.interval(from, from + s.kernelLength()));
    }

    /** RepOpt-VGG, both block engines: steps with the fold are the steps of the hooks' own passes, bit for bit. */
    @Test
    void aNetworkTrainsTheSameWithTheFoldAsWithTheHooksOwnPasses() {
        VggSpec spec = TinySpecs.tiny();
        DataSet batch = TinySpecs.batch(spec, 7, 11, DataType.FLOAT);
        for (BlockEngine engine : BlockEngine.values()) {
            if (engine == BlockEngine.ONEDNN && !cpu()) {
                continue;
            }
            ComputationGraph folded = RepOptVgg.builder(spec).dataType(DataType.FLOAT).engine(engine).build()
                    .init(RepOptimizer.sgd(TinySpecs.randomScales(spec, 3)).learningRate(0.05).weightDecay(1e-3));
            assertTrue(hooks(folded.getConfiguration()).stream().allMatch(GradMultHook::inSgdStep), engine + "");
            ComputationGraph twoPasses = twin(folded, list -> List.of(GradMultHook.sgdWithL2(
                    ((GradMultHook) list.get(0)).scales(), ((GradMultHook) list.get(0)).l2())), null);
            assertTrue(hooks(twoPasses.getConfiguration()).stream().noneMatch(GradMultHook::inSgdStep));
            for (int i = 0; i < 3; i++) {
                folded.fit(batch);
                twoPasses.fit(batch);
                assertEquals(twoPasses.params(), folded.params(), engine + " step " + i);
                assertEquals(twoPasses.getUpdater().getStateViewArray(), folded.getUpdater().getStateViewArray(),
                        engine + " step " + i + " velocity");
            }
        }
    }

    /**
     * A fine-tuning configuration that replaces TorchSgd with DL4J's {@code Nesterovs} but keeps the hooks: the update
     * fails naming the block, and no parameter has changed. With {@link TorchAdam} the Grad Mult runs before it, as
     * with the hook's own pass.
     */
    @Test
    void anUpdaterThatDoesNotTakeTheGradMultFailsTheUpdateBeforeAnyParameterChanges() {
        VggSpec spec = TinySpecs.tiny();
        DataSet batch = TinySpecs.batch(spec, 7, 11, DataType.FLOAT);
        List<BlockScales> scales = TinySpecs.randomScales(spec, 3);
        ComputationGraph folded = RepOptVgg.builder(spec).dataType(DataType.FLOAT).build()
                .init(RepOptimizer.sgd(scales).learningRate(0.05).weightDecay(1e-3));

        ComputationGraph other = twin(folded, Function.identity(), new Nesterovs(0.05, 0.9));
        INDArray before = other.params().dup();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> other.fit(batch));
        assertTrue(e.getMessage().contains("block " + scales.get(0).block()) && e.getMessage().contains("TorchSgd"),
                e.getMessage());
        assertEquals(before, other.params(), "no parameter changed");
        assertTrue(DeferredGradMults.take().isEmpty(), "nothing left behind for the next update in this thread");

        ComputationGraph adamFolded = twin(folded, Function.identity(), new TorchAdam(1e-3, 0.9, 0.999, 1e-8));
        ComputationGraph adamAlone = twin(folded, list -> List.of(GradMultHook.sgdWithL2(
                ((GradMultHook) list.get(0)).scales(), ((GradMultHook) list.get(0)).l2())),
                new TorchAdam(1e-3, 0.9, 0.999, 1e-8));
        for (int i = 0; i < 2; i++) {
            adamFolded.fit(batch);
            adamAlone.fit(batch);
            assertEquals(adamAlone.params(), adamFolded.params(), "TorchAdam step " + i);
        }
        assertNotEquals(folded.params(), adamFolded.params());
    }

    /** The hook's flag and the check survive JSON; a hook saved before the flag existed loads with its own pass. */
    @Test
    void theHookAndItsCheckRoundTripThroughJson() throws Exception {
        BlockScales s = new BlockScales("json", 3, 6, 2, positive(6), positive(6), null);
        ObjectMapper mapper = NeuralNetConfiguration.mapper();
        GradMultHook hook = GradMultHook.sgdInTorchSgdStep(s, 4e-5);
        String json = mapper.writeValueAsString(hook);
        assertEquals(hook, mapper.readValue(json, Regularization.class));
        assertNotEquals(GradMultHook.sgdWithL2(s, 4e-5), hook);
        assertEquals(hook, hook.clone());
        String old = json.replaceAll(",?\\s*\"inSgdStep\"\\s*:\\s*true", "");
        assertTrue(!old.contains("inSgdStep") && !old.equals(json), old);
        assertEquals(GradMultHook.sgdWithL2(s, 4e-5), mapper.readValue(old, Regularization.class));
        GradMultStepCheck check = new GradMultStepCheck("json");
        assertEquals(check, mapper.readValue(mapper.writeValueAsString(check), Regularization.class));
        assertEquals(ApplyStep.POST_UPDATER, check.applyStep());
        // only the SGD form's BEFORE_UPDATER hook can leave its pass to the step
        String adamw = mapper.writeValueAsString(new GradMultHook(s, GradMult.Form.ADAMW, ApplyStep.BEFORE_UPDATER))
                .replace("\"l2\"", "\"inSgdStep\":true,\"l2\"");
        Exception e = assertThrows(Exception.class, () -> mapper.readValue(adamw, Regularization.class));
        assertTrue(e.getMessage().contains("block json") && e.getMessage().contains("ADAMW"), e.getMessage());
    }

    private static List<GradMultHook> hooks(ComputationGraphConfiguration conf) {
        List<GradMultHook> out = new ArrayList<>();
        for (BaseLayer layer : layers(conf)) {
            for (Regularization r : layer.getRegularization()) {
                if (r instanceof GradMultHook) {
                    out.add((GradMultHook) r);
                }
            }
        }
        return out;
    }

    private static List<BaseLayer> layers(ComputationGraphConfiguration conf) {
        List<BaseLayer> out = new ArrayList<>();
        conf.getVertices().values().forEach(v -> {
            if (v instanceof LayerVertex && ((LayerVertex) v).getLayerConf().getLayer() instanceof BaseLayer) {
                out.add((BaseLayer) ((LayerVertex) v).getLayerConf().getLayer());
            }
        });
        return out;
    }

    /**
     * A copy of {@code net} with its parameters: the regularization list of each hooked kernel passed through
     * {@code hooked}, and every layer's updater replaced where {@code updater} is given.
     */
    private static ComputationGraph twin(ComputationGraph net, Function<List<Regularization>,
            List<Regularization>> hooked, IUpdater updater) {
        ComputationGraphConfiguration conf = net.getConfiguration().clone();
        for (BaseLayer layer : layers(conf)) {
            List<Regularization> regs = layer.getRegularization();
            if (!regs.isEmpty() && regs.get(0) instanceof GradMultHook) {
                layer.setRegularization(new ArrayList<>(hooked.apply(regs)));
            }
            if (updater != null) {
                layer.setIUpdater(updater.clone());
            }
        }
        ComputationGraph twin = new ComputationGraph(conf);
        twin.init(net.params().dup(), true);
        return twin;
    }
}
