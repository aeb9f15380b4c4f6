package io.modelpress.compressor;

import io.modelpress.engine.job.CanonicalJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.spi.Precision;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Identities are the same in every process: a redelivered event that lands on another instance is
 * answered from storage only if that instance computes the very digests the first one did. Set and
 * map iteration orders of {@code Set.of}/{@code Map.of}/{@code Set.copyOf} change from JVM to JVM, so
 * the digests are computed here and in separate JVMs, several of them, and compared.
 */
class CanonicalIdentityTest {

    private static final int OTHER_JVMS = 4;

    @Test
    void theSameRequestHasTheSameDigestInSeparateJvms() throws Exception {
        String here = DigestMain.digests();
        for (int i = 0; i < OTHER_JVMS; i++) {
            assertEquals(here, inAnotherJvm(), "the digests computed in another JVM");
        }
    }

    @Test
    void aProfileIteratesItsPrecisionsInOneOrder() {
        HardwareProfile vnni = HardwareProfiles.builtIn().require("x86-vnni");
        Set<Precision> reversed = new LinkedHashSet<>(vnni.precisions());
        List<Precision> backwards = new ArrayList<>(reversed);
        java.util.Collections.reverse(backwards);
        HardwareProfile same = new HardwareProfile(vnni.id(), vnni.description(), new LinkedHashSet<>(backwards),
                vnni.quantizedFormat(), vnni.executionProvider(), vnni.memoryBudgetBytes(), vnni.sizeBudgetBytes(),
                vnni.latencyBudgetMillis(), vnni.maxAccuracyDrop(), vnni.batchSize(), vnni.threads());
        assertTrue(vnni.precisions().size() > 1, "x86-vnni runs several precisions");
        assertEquals(List.copyOf(vnni.precisions()), List.copyOf(same.precisions()));
        assertEquals(Compressor.planDigest(vnni, DigestMain.plan()), Compressor.planDigest(same, DigestMain.plan()));
    }

    @Test
    void mapsAndSetsAreWrittenInSortedOrderWhateverTheirOwnOrder() {
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("b", Set.of("z", "y", "x"));
        one.put("a", 1.5);
        Map<String, Object> two = new TreeMap<>();
        two.put("a", 1.5);
        two.put("b", new LinkedHashSet<>(List.of("x", "z", "y")));
        assertEquals("{\"a\":1.5,\"b\":[\"x\",\"y\",\"z\"]}", CanonicalJson.write(one));
        assertEquals(CanonicalJson.write(one), CanonicalJson.write(two));
        assertNotEquals(CanonicalJson.digest(one, 16), CanonicalJson.digest(Map.of("a", 1.25), 16));
    }

    @Test
    void numbersHaveOneFixedForm() {
        assertEquals("0.01", CanonicalJson.number(0.01));
        assertEquals("0", CanonicalJson.number(-0.0));
        assertEquals("1.9999999999999998E+23", CanonicalJson.number(2e23));
        assertEquals("1E+1", CanonicalJson.number(10.0));
        assertEquals("{\"x\":0.10000000149011612}", CanonicalJson.write(Map.of("x", 0.1f)));
    }

    private static String inAnotherJvm() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                DigestMain.class.getName()).redirectErrorStream(true).start();
        byte[] out = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the other JVM did not end");
        String text = new String(out, StandardCharsets.UTF_8).strip();
        assertEquals(0, process.exitValue(), () -> "the other JVM failed:\n" + text);
        return text;
    }
}
