package org.repopt.data;

import java.util.List;

/** The part every data set of this package shares: its name and {@link ImageFormat}, and the getters of both. */
abstract class FormattedDataset implements ImageDataset {

    private final String name;
    private final ImageFormat format;

    FormattedDataset(String name, ImageFormat format) {
        this.name = name;
        this.format = format;
    }

    @Override
    public final String name() {
        return name;
    }

    @Override
    public final ImageFormat format() {
        return format;
    }

    @Override
    public final int channels() {
        return format.channels();
    }

    @Override
    public final int height() {
        return format.height();
    }

    @Override
    public final int width() {
        return format.width();
    }

    @Override
    public final int numClasses() {
        return format.numClasses();
    }

    @Override
    public final List<String> classNames() {
        return format.classNames();
    }
}
