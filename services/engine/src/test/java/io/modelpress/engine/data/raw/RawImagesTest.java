package io.modelpress.engine.data.raw;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.NpzData;
import io.modelpress.inference.OrtRunner;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import io.modelpress.spi.CalibrationData;
import io.modelpress.spi.TensorData;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.modelpress.testkit.RealModels;
import io.modelpress.testkit.TestModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Folders of PNG and JPEG files become image inputs with the layout, size and normalisation a model needs. */
class RawImagesTest {

    private static final int FROM = MnistModels.TRAIN;
    private static final int COUNT = 300;

    @TempDir
    Path temp;

    /** Held-out MNIST digits written as 8-bit grayscale PNGs in one folder per digit. */
    private Path digitFolders(int from, int count) throws IOException {
        Mnist mnist = Mnist.load();
        Path root = temp.resolve("digits");
        for (int i = from; i < from + count; i++) {
            BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            float[] pixels = mnist.images(i, i + 1);
            for (int p = 0; p < Mnist.PIXELS; p++) {
                int gray = Math.round(pixels[p] * 255);
                image.getRaster().setSample(p % 28, p / 28, 0, gray);
            }
            Path folder = Files.createDirectories(root.resolve(Integer.toString(mnist.label(i))));
            ImageIO.write(image, "png", folder.resolve("digit-" + i + ".png").toFile());
        }
        return root;
    }

    @Test
    void mnistDigitsFromPngFoldersScoreAsTheDigitsThemselves() throws IOException {
        Path root = digitFolders(FROM, COUNT);
        Path model = MnistModels.copy(temp.resolve("model"));
        OnnxModel loaded = OnnxModel.load(model);
        Path out = temp.resolve("digits.npz");

        RawDataResult result = RawData.images(loaded, new RawData.Request(root, LabelSource.folders(), Optional.empty(), 0, out),
                ImageOptions.preset("mnist"));

        assertEquals(COUNT, result.examples());
        assertArrayEquals(new long[] {COUNT, Mnist.PIXELS}, result.arrays().get(loaded.summary().inputs().get(0).name()));
        assertEquals(List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), result.classes());
        CalibrationData data = NpzData.read(out, NpzData.inputRanks(loaded), 50, 1 << 26);
        double fromFiles = accuracy(model, data);
        double direct = MnistModels.accuracy(loaded, FROM, FROM + COUNT);
        assertTrue(direct > 0.9, "the classifier reads digits: " + direct);
        assertEquals(direct, fromFiles, 0.01, "the files carry the digits and their labels");
    }

    private static double accuracy(Path model, CalibrationData data) {
        int correct = 0;
        int total = 0;
        try (OrtRunner runner = OrtRunner.open(OnnxModel.load(model))) {
            for (int s = 0; s < data.size(); s++) {
                float[] scores = runner.run(data.sample(s)).values().iterator().next().toFloats();
                long[] labels = longs(data.labels(s).orElseThrow());
                for (int i = 0; i < labels.length; i++) {
                    int best = 0;
                    for (int c = 1; c < Mnist.CLASSES; c++) {
                        best = scores[i * Mnist.CLASSES + c] > scores[i * Mnist.CLASSES + best] ? c : best;
                    }
                    correct += best == labels[i] ? 1 : 0;
                    total++;
                }
            }
        }
        return (double) correct / total;
    }

    static long[] longs(TensorData tensor) {
        long[] values = new long[(int) tensor.elementCount()];
        tensor.data().order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(values);
        return values;
    }

    @Test
    void channelOrderLayoutAndNormalisationPutEachPixelWhereTheModelReadsIt() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("one"));
        BufferedImage image = new BufferedImage(2, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xFF8000); // r 255, g 128, b 0
        image.setRGB(1, 0, 0x0000FF);
        ImageIO.write(image, "png", folder.resolve("a.png").toFile());
        ModelSummary.Value nchw = new ModelSummary.Value("x", "float", List.of("batch", "3", "1", "2"));
        ModelSummary.Value nhwc = new ModelSummary.Value("x", "float", List.of("batch", "1", "2", "3"));
        ImageOptions options = ImageOptions.defaults().withNormalization(1 / 255.0, new double[] {0.5}, new double[] {0.5});

        float[] planar = ImageConverter.forInput(nchw, options).convert(folder.resolve("a.png"));
        float[] interleaved = ImageConverter.forInput(nhwc, options.withOrder(ImageOptions.ChannelOrder.BGR))
                .convert(folder.resolve("a.png"));

        // (x/255 - 0.5)/0.5: 255 -> 1, 0 -> -1, 128 -> 0.0039
        assertArrayEquals(new float[] {1, -1, 0.003921628f, -1, -1, 1}, planar, 1e-5f, "R plane, G plane, B plane");
        assertArrayEquals(new float[] {-1, 0.003921628f, 1, 1, -1, -1}, interleaved, 1e-5f, "pixel by pixel, B G R");
    }

    @Test
    void grayPixelsKeepTheirValues() throws IOException {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 128);
        gray.getRaster().setSample(1, 0, 0, 40);
        Path file = temp.resolve("gray.png");
        ImageIO.write(gray, "png", file.toFile());
        ModelSummary.Value input = new ModelSummary.Value("x", "float", List.of("batch", "1", "1", "2"));

        float[] values = ImageConverter.forInput(input, ImageOptions.defaults()).convert(file);

        assertArrayEquals(new float[] {128 / 255f, 40 / 255f}, values, 1e-6f, "as in the file, no gamma conversion");
    }

    @Test
    void aTextLineKeepsItsAspectAndIsPaddedForARecognizer() throws IOException {
        Path lines = Files.createDirectories(temp.resolve("lines"));
        BufferedImage wide = new BufferedImage(200, 20, BufferedImage.TYPE_INT_RGB); // black, aspect 10:1
        ImageIO.write(wide, "png", lines.resolve("wide.png").toFile());
        Path model = RealModels.OCR_RECOGNIZER.copyTo(temp.resolve("model"));
        OnnxModel loaded = OnnxModel.load(model);
        Path out = temp.resolve("lines.npz");

        RawData.images(loaded, new RawData.Request(lines, LabelSource.none(), Optional.empty(), 0, out),
                ImageOptions.preset("paddleocr-rec"));

        CalibrationData data = NpzData.read(out, NpzData.inputRanks(loaded), 8, 1 << 26);
        TensorData x = data.sample(0).values().iterator().next();
        assertArrayEquals(new long[] {1, 3, 48, 320}, x.shape());
        float[] values = x.toFloats();
        assertEquals(-1f, values[0], 1e-6f, "black is (0/255 - 0.5)/0.5 = -1");
        assertEquals(-1f, values[319], 1e-6f, "at height 48 the line would be 480 wide: it fills the whole 320");
    }

    @Test
    void aShortLineIsPaddedWithZeroAfterItsWidth() {
        ModelSummary.Value input = new ModelSummary.Value("x", "float", List.of("batch", "3", "48", "w"));
        BufferedImage narrow = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB); // black, aspect 2:1 -> 96 wide
        float[] values = ImageConverter.forInput(input, ImageOptions.preset("paddleocr-rec")).convert(narrow);

        assertEquals(3 * 48 * 320, values.length);
        assertEquals(-1f, values[95], 1e-6f, "inside the line");
        assertEquals(0f, values[96], 1e-6f, "padding after it");
        assertEquals(0f, values[319], 1e-6f, "padding to the end of the row");
    }

    @Test
    void aBrokenFileIsNamedInOneLine() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("bad"));
        Files.writeString(folder.resolve("zz-not-a-picture.png"), "hello");
        Path model = MnistModels.copy(temp.resolve("model"));

        EngineException e = assertThrows(EngineException.class, () -> RawData.images(OnnxModel.load(model),
                new RawData.Request(folder, LabelSource.none(), Optional.empty(), 0, temp.resolve("x.npz")),
                ImageOptions.preset("mnist")));

        assertTrue(e.getMessage().contains("zz-not-a-picture.png") && !e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aSizeThatDisagreesWithTheModelIsRefused() {
        OnnxModel cnn = TestModels.cnn(3, 4, 1);
        ModelSummary.Value input = cnn.summary().inputs().get(0);
        List<String> dims = input.shape();
        EngineException e = assertThrows(EngineException.class,
                () -> ImageConverter.forInput(input, ImageOptions.preset("imagenet")));
        assertTrue(e.getMessage().contains(input.name()), dims + ": " + e.getMessage());
    }

    @Test
    void labelsFromACsvNameClassesInSortedOrder() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("pets"));
        for (String name : List.of("a.png", "b.png", "c.png")) {
            ImageIO.write(new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY), "png", folder.resolve(name).toFile());
        }
        Path csv = Files.writeString(temp.resolve("labels.csv"), "file,label\na.png,dog\nb.png,cat\nc.png,dog\n");
        Path out = temp.resolve("pets.npz");

        RawDataResult result = RawData.images(OnnxModel.load(MnistModels.copy(temp.resolve("model"))),
                new RawData.Request(folder, LabelSource.csv(csv), Optional.empty(), 0, out), ImageOptions.preset("mnist"));

        assertEquals(List.of("cat", "dog"), result.classes());
        CalibrationData data = NpzData.read(out, Map.of(), 3, 1 << 20);
        long[] labels = longs(data.labels(0).orElseThrow());
        java.util.Arrays.sort(labels);
        assertArrayEquals(new long[] {0, 1, 1}, labels, "one cat, two dogs, in the file's shuffled order");

        Files.writeString(csv, "a.png,dog\nb.png,cat\n");
        EngineException e = assertThrows(EngineException.class, () -> RawData.images(
                OnnxModel.load(MnistModels.copy(temp.resolve("model"))),
                new RawData.Request(folder, LabelSource.csv(csv), Optional.empty(), 0, out), ImageOptions.preset("mnist")));
        assertTrue(e.getMessage().contains("c.png") && e.getMessage().contains("no label"), e.getMessage());
    }
}
