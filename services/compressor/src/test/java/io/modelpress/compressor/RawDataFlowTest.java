package io.modelpress.compressor;

import static io.modelpress.compressor.EventLog.RESULTS;
import static io.modelpress.compressor.EventLog.on;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MinioClient;
import io.modelpress.engine.data.raw.RawArchive;
import io.modelpress.model.OnnxModel;
import io.modelpress.testkit.Mnist;
import io.modelpress.testkit.MnistModels;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A registry names raw files (a zip of images and its settings) as data; the service makes the model's data of them. */
@QuarkusTest
@WithTestResource(LocalStackResource.class)
class RawDataFlowTest {

    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int DIGITS = 200;

    @TempDir
    Path temp;

    private EventLog log;
    private MinioClient s3;

    @BeforeEach
    void connect() {
        log = new EventLog(Fixtures.bootstrapServers());
        s3 = Fixtures.s3();
    }

    @AfterEach
    void disconnect() {
        log.close();
    }

    /** Held-out digits as PNG files in one folder per digit, zipped with the settings that say how to read them. */
    private static byte[] digitArchive() throws Exception {
        Mnist mnist = Mnist.load();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry(RawArchive.SETTINGS));
            zip.write("kind=images\nsource=digits\npreset=mnist\nlabels=folders\n".getBytes(StandardCharsets.UTF_8));
            for (int i = MnistModels.TRAIN; i < MnistModels.TRAIN + DIGITS; i++) {
                BufferedImage image = new BufferedImage(28, 28, BufferedImage.TYPE_BYTE_GRAY);
                float[] pixels = mnist.images(i, i + 1);
                for (int p = 0; p < Mnist.PIXELS; p++) {
                    image.getRaster().setSample(p % 28, p / 28, 0, Math.round(pixels[p] * 255));
                }
                zip.putNextEntry(new ZipEntry("digits/" + mnist.label(i) + "/" + i + ".png"));
                ImageIO.write(image, "png", zip);
            }
        }
        return bytes.toByteArray();
    }

    @Test
    void labelledImagesInAZipAreTheEvaluationDataTheAccuracyIsMeasuredOn() throws Exception {
        Path file = MnistModels.copy(temp.resolve("mnist"));
        String uri = Fixtures.storeFile(s3, file, "registry/mnist-raw/1/model.onnx");
        Fixtures.put(s3, "registry/mnist-raw/data/digits.zip", digitArchive());
        String id = "flow/mnist-raw";
        ObjectNode registered = Fixtures.withChain(Fixtures.registered(id, uri, "x86-vnni"), "graph-cleanup");
        registered.put("evaluationDataUri", "s3://" + LocalStackResource.BUCKET + "/registry/mnist-raw/data/digits.zip");
        log.sendBinary(id, "registered-mnist-raw-1", registered.toString());

        JsonNode result = log.await(on(RESULTS, id), 1, WAIT).get(0).data();
        Fixtures.assertAllValid(log.matching(event -> id.equals(event.key())));
        JsonNode accuracy = result.path("accuracy");
        assertTrue(accuracy.path("measured").asBoolean(), () -> "accuracy: " + accuracy);
        JsonNode figures = accuracy.path("figures");
        assertEquals(DIGITS, figures.path("examples").asInt());
        double direct = MnistModels.accuracy(OnnxModel.load(file), MnistModels.TRAIN, MnistModels.TRAIN + DIGITS);
        assertEquals(direct, figures.path("top1Before").asDouble(), 0.01,
                "the images and their folders carried the digits and their labels");
    }
}
