import org.rapaio.jupyter.kernel.MainApp;
import org.rapaio.jupyter.kernel.channels.Channels;
import org.rapaio.jupyter.kernel.core.ConnectionProperties;
import org.rapaio.jupyter.kernel.core.Transform;

import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.logging.LogManager;

/**
 * Starts rapaio-jupyter-kernel 3.0.1 as its own {@code MainApp} does, less the start-up race of {@code Channels}; with
 * the fixed {@code LoopThread} next to it (the kernel's other start-up race), the kernel starts first time on a loaded
 * machine where 3.0.1 alone failed about one start in two (see execute-all.sh --check-start).
 *
 * <p>The race: {@code Channels.connect} binds the shell socket and starts its polling thread, and only afterwards
 * creates its map of message handlers; until then the field is {@code null}. Jupyter's client has been sending
 * {@code kernel_info_request} since the kernel process started, so on a slow start the request is waiting the moment
 * the socket is bound, the shell thread looks up its handler in the {@code null} map, dies of a
 * {@code NullPointerException}, and the kernel never answers ("Kernel didn't respond"). Setting the field to an empty
 * map before {@code connect} turns that into one dropped request ("Unhandled message"), which the client repeats every
 * second until {@code connect} has filled the map. Nothing else differs from {@code MainApp.runKernel}.
 */
public final class KernelLauncher {

    private KernelLauncher() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: KernelLauncher CONNECTION_FILE");
        }
        LogManager.getLogManager().readConfiguration(
                MainApp.class.getClassLoader().getResourceAsStream("logging.properties"));
        ConnectionProperties connection = Transform.fromJson(Files.readString(Path.of(args[0])),
                ConnectionProperties.class);
        Channels channels = new Channels(connection);
        Field handlers = Channels.class.getDeclaredField("handlers");
        handlers.setAccessible(true);
        handlers.set(channels, new HashMap<>());
        channels.connect(MainApp.kernel);
        channels.joinUntilClose();
    }
}
