package org.rapaio.jupyter.kernel.channels;

/**
 * Replaces rapaio-jupyter-kernel 3.0.1's class of the same name (this folder comes first on the kernel's classpath;
 * same constructor and methods). A thread that runs its body, sleeps, and runs it again until {@link #shutdown}.
 *
 * <p>The difference, and the reason: 3.0.1's {@code start()} starts the thread and only then sets the flag the loop
 * tests. On a loaded machine the new thread often tests the flag first, finds it unset and ends at once, silently:
 * the kernel then has no shell (or control) loop and never answers. Here the flag is set before the thread starts.
 */
public final class LoopThread extends Thread {

    private volatile boolean running;
    private final long sleep;
    private final Runnable loopBody;

    /**
     * @param name     the thread's name
     * @param sleep    milliseconds between two runs of the body
     * @param loopBody what to run
     */
    public LoopThread(String name, long sleep, Runnable loopBody) {
        super(name);
        this.sleep = sleep;
        this.loopBody = loopBody;
    }

    @Override
    public void run() {
        while (running) {
            loopBody.run();
            try {
                Thread.sleep(sleep);
            } catch (InterruptedException e) {
                running = false;
                return;
            }
        }
    }

    @Override
    public synchronized void start() {
        running = true;
        super.start();
    }

    /** Ends the loop after the current run of the body. */
    public void shutdown() {
        running = false;
    }
}
