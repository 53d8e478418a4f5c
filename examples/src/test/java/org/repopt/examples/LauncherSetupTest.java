package org.repopt.examples;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The set-up logic of the {@code ./repopt} launcher (the README's two commands), run on a copy of the launcher in a
 * sandbox: a PATH holding only the few real tools the launcher uses plus fakes of {@code apt-get}, {@code sudo},
 * {@code id}, {@code java}, {@code mvn} and {@code jupyter}, and a fake system root ({@code REPOPT_TEST_SYSROOT}) for
 * Fashion-MNIST and Debian's python3. The fakes log every call; the fake apt-get "installs" a package by creating what
 * the launcher's probe looks for, and only as uid 0. Nothing on the real machine is installed or read.
 */
class LauncherSetupTest {

    private static final List<String> REAL_TOOLS = List.of("bash", "env", "dirname", "find", "rm", "cat", "grep",
            "mkdir", "touch");
    private static final String DATA = "usr/share/datasets/fashion-mnist";

    @TempDir
    Path sandbox;
    private Path root;
    private Path bin;
    private Path sysroot;
    private Path log;
    private final Map<String, String> env = new HashMap<>();

    private record Run(int exit, String out, String err, List<String> calls) {
        boolean installed() {
            return calls.stream().anyMatch(c -> c.startsWith("apt-get install"));
        }

        boolean ranJava() {
            return calls.stream().anyMatch(c -> c.startsWith("java "));
        }
    }

    @BeforeEach
    void sandbox() throws IOException {
        root = sandbox.resolve("repo");
        bin = sandbox.resolve("bin");
        sysroot = sandbox.resolve("sysroot");
        log = sandbox.resolve("calls.log");
        Path cwd = Path.of("").toAbsolutePath();   // Maven runs the tests in examples/; an IDE may use the root
        Path realRoot = Files.isRegularFile(cwd.resolve("repopt")) ? cwd : cwd.getParent();
        Path launcher = realRoot.resolve("repopt");
        assertTrue(Files.isRegularFile(launcher), "no launcher at " + launcher);
        Files.createDirectories(root);
        Files.copy(launcher, root.resolve("repopt"), StandardCopyOption.COPY_ATTRIBUTES);
        // The real poms (the launcher checks the profiles of its optional passes against them), sources older than
        // any jar the fake mvn builds.
        try (Stream<Path> poms = Files.walk(realRoot, 3)) {
            for (Path pom : poms.filter(p -> p.getFileName().toString().equals("pom.xml")
                    && !p.toString().contains("/target/")).toList()) {
                Path copy = root.resolve(realRoot.relativize(pom));
                Files.createDirectories(copy.getParent());
                Files.copy(pom, copy);
            }
        }
        for (String src : List.of("repopt-dl4j/src/main/A.java", "examples/src/main/B.java")) {
            Files.createDirectories(root.resolve(src).getParent());
            Files.writeString(root.resolve(src), "");
        }
        try (Stream<Path> all = Files.walk(root)) {
            FileTime old = FileTime.fromMillis(System.currentTimeMillis() - 3_600_000);
            for (Path p : all.filter(Files::isRegularFile).toList()) {
                Files.setLastModifiedTime(p, old);
            }
        }
        Files.createDirectories(bin);
        for (String tool : REAL_TOOLS) {
            fake(bin.resolve(tool), "exec " + real(tool) + " \"$@\"");   // a wrapper, not a link: TempDir warns on links
        }
        fake(bin.resolve("id"), "[ \"$1\" = -u ] && echo \"$FAKE_UID\"");
        fake(bin.resolve("sudo"), "echo \"sudo $*\" >> \"$FAKE_LOG\"; FAKE_UID=0 exec \"$@\"");
        fake(bin.resolve("apt-get"), """
                echo "apt-get $* (uid $(id -u))" >> "$FAKE_LOG"
                [ "$(id -u)" = 0 ] || { echo "E: Could not open lock file - are you root?" >&2; exit 100; }
                [ -z "${FAKE_APT_FAIL:-}" ] || { echo "E: Unable to locate package" >&2; exit 100; }
                [ "$1" = install ] || exit 0
                for a in "$@"; do
                  case "$a" in
                    -*|install) ;;
                    dataset-fashion-mnist)
                      d="$REPOPT_TEST_SYSROOT/%s"; mkdir -p "$d"
                      touch "$d/train-images-idx3-ubyte.gz" "$d/train-labels-idx1-ubyte.gz" \\
                        "$d/t10k-images-idx3-ubyte.gz" "$d/t10k-labels-idx1-ubyte.gz" ;;
                    *) mkdir -p "$REPOPT_TEST_SYSROOT/installed"; touch "$REPOPT_TEST_SYSROOT/installed/$a" ;;
                  esac
                done""".formatted(DATA));
        fake(bin.resolve("jupyter"), "[ \"$1 $2\" = 'nbconvert --version' ] "
                + "&& [ -f \"$REPOPT_TEST_SYSROOT/installed/jupyter-nbconvert\" ]");
        fake(bin.resolve("java"), "echo \"java $*\" >> \"$FAKE_LOG\"; echo 'the command line ran'");
        fake(bin.resolve("mvn"), """
                echo "mvn $*" >> "$FAKE_LOG"
                for a in "$@"; do
                  if [ "$a" = package ]; then mkdir -p examples/target/lib; touch examples/target/repopt-examples.jar; fi
                done""");
        fake(root.resolve("notebooks/execute-all.sh"), "echo \"notebooks MVN_ARGS=$MVN_ARGS\" >> \"$FAKE_LOG\"");
        fake(sysroot.resolve("usr/bin/python3"), """
                if [ "$1" = -c ]; then
                  case "$2" in
                    'import jupyter_client') p=jupyter-client ;;
                    'import nbclient') p=python3-nbclient ;;
                    'import ipykernel') p=python3-ipykernel ;;
                    'import onnx') p=python3-onnx ;;
                    'import torch') p=python3-torch ;;
                    *) exit 1 ;;
                  esac
                  [ -f "$REPOPT_TEST_SYSROOT/installed/$p" ]; exit
                fi
                echo "python3 $*" >> "$FAKE_LOG"
                """);
        env.put("PATH", bin.toString());
        env.put("HOME", sandbox.toString());
        env.put("REPOPT_TEST_SYSROOT", sysroot.toString());
        env.put("FAKE_LOG", log.toString());
        env.put("FAKE_UID", "0");
    }

    private static Path real(String tool) {
        for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
            Path p = Path.of(dir, tool);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        throw new IllegalStateException("the test needs " + tool + " in /usr/bin or /bin");
    }

    private static void fake(Path file, String body) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private void dataPresent() throws IOException {
        Path d = sysroot.resolve(DATA);
        Files.createDirectories(d);
        for (String f : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz")) {
            Files.writeString(d.resolve(f), "");
        }
    }

    private Run run(String... args) throws IOException, InterruptedException {
        long before = Files.exists(log) ? Files.readAllLines(log).size() : 0;
        List<String> command = new ArrayList<>();
        command.add(root.resolve("repopt").toString());
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(sandbox.toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        Path out = sandbox.resolve("out.txt");
        Path err = sandbox.resolve("err.txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not finish in 60 s");
        List<String> calls = Files.exists(log) ? Files.readAllLines(log) : List.of();
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err),
                calls.subList((int) before, calls.size()));
    }

    @Test
    void demoInstallsFashionMnistAsRootBuildsAndRunsThenASecondRunIsSilent() throws Exception {
        Run first = run("demo", "--epochs", "1");
        assertEquals(0, first.exit(), first.err());
        assertEquals(List.of("apt-get update -qq (uid 0)",
                "apt-get install -y -qq --no-install-recommends dataset-fashion-mnist (uid 0)",
                "mvn -q -B -DskipTests package -pl examples -am"), first.calls().subList(0, 3));
        assertTrue(first.calls().get(3).startsWith("java ") && first.calls().get(3).endsWith(" demo --epochs 1"),
                first.calls().toString());
        assertTrue(first.err().contains("repopt: set-up: running: env DEBIAN_FRONTEND=noninteractive apt-get install -y "
                + "-qq --no-install-recommends dataset-fashion-mnist"), first.err());
        assertTrue(first.out().contains("the command line ran"), first.out());

        Run second = run("demo", "--epochs", "1");
        assertEquals(0, second.exit(), second.err());
        assertEquals(1, second.calls().size(), second.calls().toString());
        assertTrue(second.ranJava());
        assertEquals("", second.err(), "a second run says nothing about set-up or building");
    }

    @Test
    void notRootInstallsThroughSudoAndSaysSo() throws Exception {
        env.put("FAKE_UID", "1000");
        Run r = run("demo");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.calls().contains("sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                + "--no-install-recommends dataset-fashion-mnist"), r.calls().toString());
        assertTrue(r.calls().contains("apt-get install -y -qq --no-install-recommends dataset-fashion-mnist (uid 0)"),
                r.calls().toString());
        assertTrue(r.err().contains("running: sudo env DEBIAN_FRONTEND=noninteractive apt-get install"), r.err());
        assertTrue(r.ranJava());
    }

    @ParameterizedTest(name = "data missing, ./repopt {0}: installs Fashion-MNIST = {1}")
    @CsvSource(delimiter = '|', value = {
            "demo|true",
            "demo --seed 3|true",
            "train --model vgg|true",
            "train --dataset=Fashion-MNIST --model vgg|true",
            "search --epochs 1|true",
            "quantize --model runs/x|true",
            "demo --data-dir /elsewhere|false",
            "demo --data-dir=/elsewhere|false",
            "train --dataset cifar10 --data-dir /c10|false",
            "train --dataset=folder --data-dir /imgs|false",
            "demo --help|false",
            "train -h|false",
            "--version|false",
            "models|false",
            "export --model runs/x|false",
            "bench --preset small|false",
            "help demo|false"})
    void onlyACommandReadingFashionMnistFromItsDefaultPlaceInstallsIt(String args, boolean installs) throws Exception {
        Run r = run(args.split(" "));
        assertEquals(0, r.exit(), r.err());
        assertEquals(installs, r.installed(), r.calls().toString());
        assertTrue(r.ranJava());
        if (!installs) {
            assertFalse(r.err().contains("set-up"), r.err());
        }
    }

    @Test
    void presentDataInstallsNothing() throws Exception {
        dataPresent();
        Run r = run("demo");
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.installed(), r.calls().toString());
        assertFalse(r.err().contains("set-up"), r.err());
    }

    @Test
    void withoutAptGetOneMessageSaysWhatIsMissingAndWhatToDo() throws Exception {
        Files.delete(bin.resolve("apt-get"));
        Run r = run("demo");
        assertEquals(1, r.exit());
        assertFalse(r.ranJava(), "the demo must not start without its data");
        assertTrue(r.err().startsWith("repopt: missing Fashion-MNIST in " + sysroot.resolve(DATA)
                + ", and it cannot be installed here: there is no apt-get on this machine."), r.err());
        assertTrue(r.err().contains("dataset-fashion-mnist") && r.err().contains("Or pass --data-dir DIR"), r.err());
        assertEquals(3, r.err().lines().count(), r.err());
    }

    @Test
    void neitherRootNorSudoNamesTheCommandToRunAsRoot() throws Exception {
        env.put("FAKE_UID", "1000");
        Files.delete(bin.resolve("sudo"));
        Run r = run("demo");
        assertEquals(1, r.exit());
        assertFalse(r.ranJava());
        assertFalse(r.calls().stream().anyMatch(c -> c.startsWith("apt-get")), r.calls().toString());
        assertTrue(r.err().contains("you are not root and there is no sudo"), r.err());
        assertTrue(r.err().contains("Run as root:  apt-get install -y dataset-fashion-mnist  then run this command again."),
                r.err());
    }

    @Test
    void aFailedInstallStopsAndNamesTheCommand() throws Exception {
        env.put("FAKE_APT_FAIL", "1");
        Run r = run("demo");
        assertEquals(1, r.exit());
        assertFalse(r.ranJava());
        assertTrue(r.err().contains("repopt: set-up failed: 'apt-get update -qq' exited with status 100"), r.err());
    }

    @Test
    void testInstallsEverythingInOneAptRunThenRunsMavenAndTheNotebooksAndASecondRunIsSilent() throws Exception {
        Run first = run("test");
        assertEquals(0, first.exit(), first.err());
        assertEquals(List.of("apt-get update -qq (uid 0)",
                "apt-get install -y -qq --no-install-recommends dataset-fashion-mnist jupyter-nbconvert python3-nbclient "
                        + "jupyter-client python3-ipykernel python3-onnx (uid 0)",
                "mvn -B verify", "notebooks MVN_ARGS="), first.calls());
        assertTrue(first.err().contains("repopt: set-up: missing Fashion-MNIST in "), first.err());

        env.put("REPOPT_MAVEN_ARGS", "-o");
        Run second = run("test");
        assertEquals(0, second.exit(), second.err());
        assertEquals(List.of("mvn -B -o verify", "notebooks MVN_ARGS=-o"), second.calls());
        assertFalse(second.err().contains("set-up") || second.out().contains("set-up"), second.err() + second.out());
    }

    @Test
    void testAllAddsPyTorchEveryOptionalPassAndTheGeneratorCheck() throws Exception {
        dataPresent();
        Run help = run("test", "--help");
        assertEquals(0, help.exit(), help.err());
        List<String> optional = help.out().lines().dropWhile(l -> !l.startsWith("--all"))
                .filter(l -> l.startsWith("  ")).map(String::strip).toList();
        Run r = run("test", "--all");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.calls().get(1).startsWith("apt-get install ") && r.calls().get(1).contains(" python3-torch "),
                r.calls().toString());
        List<String> expected = new ArrayList<>(List.of("mvn -B verify", "notebooks MVN_ARGS="));
        for (String line : optional) {
            expected.add(line.startsWith("mvn ") ? line
                    : "python3 " + line.substring(line.indexOf(' ') + 1, line.indexOf("   (needs")));
        }
        assertEquals(expected, r.calls().subList(2, r.calls().size()));
        assertTrue(expected.get(expected.size() - 1).endsWith("golden/generators/reproduce.py"), expected.toString());
    }

    @Test
    void anOptionalPassNamingAnUnknownProfileIsRefused() throws Exception {
        Path launcher = root.resolve("repopt");
        String text = Files.readString(launcher);
        assertTrue(text.contains("OPTIONAL_PASSES=(\n"), "the launcher declares OPTIONAL_PASSES=( on its own line");
        Files.writeString(launcher, text.replace("OPTIONAL_PASSES=(\n", "OPTIONAL_PASSES=(\n  \"-Pcpu,no-such-part\"\n"));
        dataPresent();
        Run r = run("test", "--all");
        assertEquals(2, r.exit());
        assertTrue(r.err().contains("OPTIONAL_PASSES names the profile 'no-such-part', which no pom.xml defines"),
                r.err());
        assertTrue(r.calls().isEmpty(), r.calls().toString());
    }

    @Test
    void topLevelHelpAddsTheLaunchersTestCommand() throws Exception {
        Run r = run("--help");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("the command line ran") && r.out().contains("test [--all]"), r.out());
    }
}
