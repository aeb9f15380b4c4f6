package io.modelpress.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code modelpress data} as a user meets it, and the help a mistyped command gets. */
@Timeout(value = 300, unit = TimeUnit.SECONDS) // a guard against hangs, not a performance check
class DataCommandTest {

    @TempDir
    Path temp;

    record Run(int exit, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = ModelpressCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(exit, out.toString(), err.toString());
    }

    /** Held-out digits as PNG files in one folder per class, as a user would have them. */
    private Path digitFolders(int count) throws IOException {
        Mnist mnist = Mnist.load();
        Path root = temp.resolve("digits");
        for (int i = MnistModels.TRAIN; i < MnistModels.TRAIN + count; i++) {
            BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
            float[] pixels = mnist.images(i, i + 1);
            for (int p = 0; p < Mnist.PIXELS; p++) {
                image.getRaster().setSample(p % 28, p / 28, 0, Math.round(pixels[p] * 255));
            }
            Path folder = Files.createDirectories(root.resolve(Integer.toString(mnist.label(i))));
            ImageIO.write(image, "png", folder.resolve(i + ".png").toFile());
        }
        return root;
    }

    @Test
    void imageFoldersBecomeLabelledDataThatCompressMeasuresAccuracyOn() throws IOException {
        Path model = MnistModels.copy(temp.resolve("model"));
        Path data = temp.resolve("digits.npz");

        Run made = run("data", model.toString(), "--images", digitFolders(200).toString(), "--preset", "mnist",
                "--labels", "folders", "--out", data.toString());

        assertEquals(0, made.exit(), made.err());
        assertTrue(made.out().contains("200 of 200 images as 'pixels' 28x28 grayscale flat"), made.out());
        assertTrue(made.out().contains("labels") && made.out().contains("[200]"), made.out());
        assertTrue(made.out().contains("classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9"), made.out());
        assertTrue(made.out().contains("--evaluation " + data), made.out());

        Run compressed = run("compress", model.toString(), "--profile", "x86-vnni", "--plugin", "int8-dynamic",
                "--evaluation", data.toString(), "--no-bench", "--quiet", "--out", temp.resolve("out").toString());
        assertEquals(0, compressed.exit(), compressed.err() + compressed.out());
        assertTrue(compressed.out().contains("accuracy (") && compressed.out().contains("200 examples"), compressed.out());
    }

    @Test
    void aBrokenImageIsNamedInOneLine() throws IOException {
        Path folder = Files.createDirectories(temp.resolve("pictures"));
        Files.writeString(folder.resolve("holiday.jpg"), "not really a picture");
        Path model = MnistModels.copy(temp.resolve("model"));

        Run run = run("data", model.toString(), "--images", folder.toString(), "--preset", "mnist", "--out",
                temp.resolve("x.npz").toString());

        assertBadInput(run, "holiday.jpg");
    }

    @Test
    void textWithoutItsTokenizerIsRefused() throws IOException {
        Path text = Files.writeString(temp.resolve("lines.txt"), "a line\n");
        Path model = MnistModels.copy(temp.resolve("model"));

        assertBadInput(run("data", model.toString(), "--text", text.toString(), "--out", temp.resolve("x.npz").toString()),
                "--text needs --tokenizer");
        assertBadInput(run("data", model.toString(), "--out", temp.resolve("x.npz").toString()), "--images");
    }

    @Test
    void aMistypedCommandOrOptionGetsTheClosestOne() {
        Run command = run("compres", "model.onnx");
        assertBadInput(command, "did you mean 'compress'?");

        Run option = run("inspect", "--jsn", "model.onnx");
        assertBadInput(option, "did you mean '--json'?");
    }

    private static void assertBadInput(Run run, String reason) {
        assertEquals(2, run.exit(), "exit code; stderr: " + run.err());
        String err = run.err().strip();
        assertTrue(err.startsWith("modelpress: "), err);
        assertTrue(err.contains(reason), "'" + reason + "' not in: " + err);
        assertFalse(err.contains("\n"), "one line: " + err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
    }
}
