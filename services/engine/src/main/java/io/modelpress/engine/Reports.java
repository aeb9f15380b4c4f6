package io.modelpress.engine;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** JSON for reports and summaries: records as objects, empty optionals as null, indented. */
public final class Reports {

    /** The name of a compression's report beside the model it describes. */
    public static final String FILE = "report.json";

    private static final ObjectMapper JSON = JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .build();

    private Reports() {
    }

    public static ObjectMapper json() {
        return JSON;
    }

    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a compression's report.json and, beside it, report.html: the same report as a page for
     * people (see {@link ReportHtml}). Every writer of a report goes through here, so the two never part.
     *
     * @param jsonFile where report.json goes; the page takes its folder
     */
    public static void writeReport(Path jsonFile, CompressionReport report) {
        write(jsonFile, report);
        Path page = jsonFile.resolveSibling(ReportHtml.FILE);
        try {
            Files.writeString(page, ReportHtml.render(JSON.valueToTree(report)));
        } catch (IOException e) {
            throw new EngineException("cannot write " + page + ": " + e.getMessage(), e);
        }
    }

    public static void write(Path file, Object value) {
        try {
            JSON.writeValue(file.toFile(), value);
        } catch (IOException e) {
            throw new EngineException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
