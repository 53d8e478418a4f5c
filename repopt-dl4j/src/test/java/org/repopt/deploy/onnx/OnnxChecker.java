package org.repopt.deploy.onnx;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The ONNX project's own checker (Debian {@code python3-onnx}: {@code onnx.checker.check_model} with full shape
 * inference), where this machine has it; the launcher installs it on CI.
 */
public final class OnnxChecker {

    private static final Path PYTHON = Path.of("/usr/bin/python3");

    private OnnxChecker() {
    }

    /** @return whether python3 with the onnx module is here */
    public static boolean available() {
        try {
            return Files.isExecutable(PYTHON) && run(List.of("-c", "import onnx")).exit == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * @param models ONNX files
     * @return the checker's output; empty when every model passed
     */
    public static String problems(List<Path> models) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-c", String.join("\n",
                "import sys, onnx",
                "bad = 0",
                "for f in sys.argv[1:]:",
                "    try:",
                "        onnx.checker.check_model(onnx.load(f), full_check=True)",
                "    except Exception as e:",
                "        bad += 1",
                "        print(f, type(e).__name__, e)",
                "sys.exit(1 if bad else 0)")));
        models.forEach(m -> args.add(m.toString()));
        Result r = run(args);
        return r.exit == 0 ? "" : r.out.isEmpty() ? "checker exit " + r.exit : r.out;
    }

    private record Result(int exit, String out) {
    }

    private static Result run(List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(PYTHON.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return new Result(-1, "checker timed out");
        }
        return new Result(p.exitValue(), out.trim());
    }
}
