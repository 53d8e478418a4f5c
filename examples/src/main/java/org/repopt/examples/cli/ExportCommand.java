package org.repopt.examples.cli;

import onnx.Onnx;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.repopt.data.ImageDataset;
import org.repopt.deploy.DeployModel;
import org.repopt.deploy.onnx.OnnxExport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code ./repopt export}: the deployable plain model of a training run, as a DL4J zip and optionally as ONNX. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Write the deployable plain model of a ./repopt train run: RepVGG fused into one 3x3 conv per "
                + "block; RepOpt-VGG and VGG as trained (they are plain already); batch norm folded into the convs.",
                "The zip holds stock DL4J classes only (no updater, no repopt-dl4j classes): any DL4J application "
                        + "loads it with ModelSerializer.restoreComputationGraph. --onnx also writes it as ONNX "
                        + "(opset " + OnnxExport.OPSET + ", float32; input name, shape and normalization in the "
                        + "file's metadata_props)."})
final class ExportCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "DIR", description = "The run folder of ./repopt train.")
    private Path run;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write the zip (default: DIR/deploy.zip).")
    private Path out;

    @Option(names = "--onnx", paramLabel = "FILE", description = "Also write the model as ONNX to FILE.")
    private Path onnx;

    @Option(names = "--data-dir", paramLabel = "DIR",
            description = "Where the run's data set is now, if it moved (--onnx reads its input normalization).")
    private Path dataDir;

    @Override
    public Integer call() throws Exception {
        RunInfo info = RunInfo.read(run);
        Path target = out != null ? out : run.resolve("deploy.zip");
        // every output is checked before anything is computed or written
        RunInfo.requireNotRunFile(target);
        DeployModel.requireFolder(target);
        if (onnx != null) {
            RunInfo.requireNotRunFile(onnx);
            DeployModel.requireFolder(onnx);
            if (onnx.toAbsolutePath().normalize().equals(target.toAbsolutePath().normalize())) {
                throw new IllegalArgumentException("--onnx " + onnx + " is the zip's path too; write them apart");
            }
        }
        ComputationGraph deploy = info.deployModel(run);
        Onnx.ModelProto model = onnx == null ? null : onnxModel(info, deploy, info.openData(dataDir));
        DeployModel.write(deploy, target);
        System.out.println(info.family().displayName() + "-" + info.variant() + " deploy model (" + deploy.numParams()
                + " parameters): " + target);
        if (model != null) {
            OnnxExport.write(model, onnx);
            System.out.println("ONNX (opset " + OnnxExport.OPSET + ", float32): " + onnx);
        }
        return 0;
    }

    /** The run's deploy model as float ONNX, its input documented from the run's data set. */
    static Onnx.ModelProto onnxModel(RunInfo info, ComputationGraph deploy, ImageDataset data) {
        return OnnxExport.fp32(deploy, onnxInput(info, data), metadata(info));
    }

    static OnnxExport.Input onnxInput(RunInfo info, ImageDataset data) {
        return new OnnxExport.Input("input", info.channels(), info.height(), info.width(), data.inputNormalization());
    }

    static Map<String, String> metadata(RunInfo info) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("model", info.family().displayName() + "-" + info.variant());
        m.put("dataset", info.dataset());
        m.put("classes", Integer.toString(info.classes()));
        return m;
    }
}
