package io.modelpress.dashboard;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring against the metrics the services really register: every modelpress_* series a
 * Grafana panel asks for is one that the compressor's or the dashboard's meters produce.
 */
class MonitoringFilesTest {

    private static final Path ROOT = Path.of("../..");

    @Test
    void everyPanelQueriesAMetricTheServicesExport() throws Exception {
        Set<String> exported = new HashSet<>();
        exported.addAll(prometheusNames(ROOT.resolve("services/compressor/src/main/java/io/modelpress/compressor/CompressorMetrics.java")));
        exported.addAll(prometheusNames(ROOT.resolve("services/dashboard/src/main/java/io/modelpress/dashboard/EventIngest.java")));
        assertTrue(exported.contains("modelpress_models_in_flight"), exported.toString());

        JsonNode dashboard = new ObjectMapper().readTree(ROOT.resolve("deploy/monitoring/grafana-dashboard.json").toFile());
        Set<String> queried = new TreeSet<>();
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.path("panels")) {
            assertTrue(ids.add(panel.path("id").asInt()), "panel ids are unique");
            assertFalse(panel.path("targets").isEmpty(), panel.path("title") + " has a query");
            for (JsonNode target : panel.path("targets")) {
                Matcher names = Pattern.compile("modelpress_[a-z_]+").matcher(target.path("expr").asText());
                while (names.find()) {
                    queried.add(names.group());
                }
            }
        }
        for (String name : queried) {
            String series = name.replaceFirst("_(count|sum|max|bucket)$", "");
            assertTrue(exported.contains(series), name + " is not a metric the services export: " + exported);
        }
        assertTrue(queried.size() >= 8, "the panels cover the metrics: " + queried);
    }

    private static Set<String> prometheusNames(Path source) throws Exception {
        String code = Files.readString(source);
        Set<String> names = new HashSet<>();
        Matcher meters = Pattern.compile("(Counter|Timer)\\.builder\\(\"([a-z.]+)\"\\)((?:\\s*\\.[a-zA-Z]+\\([^;]*?\\))*)")
                .matcher(code);
        while (meters.find()) {
            String name = meters.group(2).replace('.', '_');
            String unit = meters.group(3).contains("baseUnit(\"bytes\")") ? "_bytes" : "";
            names.add(meters.group(1).equals("Timer") ? name + "_seconds" : name + unit + "_total");
        }
        Matcher counters = Pattern.compile("counter\\(\"([a-z.]+)\"").matcher(code);
        while (counters.find()) {
            names.add(counters.group(1).replace('.', '_') + "_total");
        }
        Matcher gauges = Pattern.compile("gauge\\(\"([a-z.]+)\"").matcher(code);
        while (gauges.find()) {
            names.add(gauges.group(1).replace('.', '_'));
        }
        return names;
    }
}
