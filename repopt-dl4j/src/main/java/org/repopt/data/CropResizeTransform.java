package org.repopt.data;

import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.datavec.image.data.ImageWritable;
import org.datavec.image.transform.BaseImageTransform;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;

/**
 * A DataVec image transform that crops the decoded image to a {@link CropBox}; the image record reader then resizes
 * the window to the network input. Training windows are random-resized crops drawn from the {@link Random} given
 * to {@link #prepare}; evaluation windows are centre crops. 16-bit images are scaled to 8 bits first, so every
 * pixel the reader returns is a byte value.
 *
 * <p>One instance per decoding thread: it holds the current example's settings.
 */
final class CropResizeTransform extends BaseImageTransform<Mat> {

    private final int size;
    private boolean train;

    /** @param size the side of the network input */
    CropResizeTransform(int size) {
        super(null);
        this.size = size;
        this.converter = new OpenCVFrameConverter.ToMat();
    }

    /**
     * Sets up the next image's crop.
     *
     * @param trainCrop whether to draw a random-resized crop (training) or take the centre crop (evaluation)
     * @param random    the example's random source
     */
    void prepare(boolean trainCrop, Random random) {
        this.train = trainCrop;
        setRandom(random);
    }

    @Override
    protected ImageWritable doTransform(ImageWritable image, Random random) {
        if (image == null) {
            return null;
        }
        Mat mat = converter.convert(image.getFrame());
        if (mat.depth() != CV_8U) {
            if (mat.depth() != CV_16U) {
                throw new IllegalArgumentException("image has OpenCV depth " + mat.depth()
                        + ", expected 8-bit or 16-bit channels");
            }
            Mat eight = new Mat();
            mat.convertTo(eight, CV_8U, 1.0 / 257.0, 0.0);
            mat = eight;
        }
        CropBox box = train ? CropBox.randomResized(mat.cols(), mat.rows(), random)
                : CropBox.centre(mat.cols(), mat.rows(), size);
        Mat window = mat.apply(new Rect(box.x, box.y, box.width, box.height));
        return new ImageWritable(converter.convert(window));
    }
}
