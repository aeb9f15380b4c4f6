package io.modelpress.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.modelpress.dashboard.DashboardView.Candidate;
import io.modelpress.dashboard.DashboardView.ModelView;
import io.modelpress.dashboard.DashboardView.ProfileView;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/** The state from events in any order, with the schemas' own examples as the events. */
class DashboardStateTest {

    private static final Instant NOW = Instant.parse("2026-12-02T06:30:00Z");
    private final ObjectMapper json = new ObjectMapper();
    private final EventReader reader = new EventReader(json);

    @Test
    void theSameEventsInAnyOrderGiveTheSameView() throws Exception {
        List<Event> events = new ArrayList<>(List.of(
                progress(10, "2026-12-02T05:55:00Z"), progress(41, "2026-12-02T05:55:06.312Z"),
                example(EventKind.RESULT, "compression-result"), example(EventKind.BENCHMARK, "benchmark")));
        DashboardView inOrder = apply(events);
        Collections.reverse(events);
        DashboardView reversed = apply(events);
        assertEquals(inOrder.models(), reversed.models());

        ModelView model = inOrder.models().get(0);
        assertEquals("complete", model.status(), "progress older than the result does not make it running again");
        ProfileView profile = model.profiles().get(0);
        assertEquals(316022L, profile.sizes().originalBytes());
        assertEquals(47005L, profile.sizes().compressedBytes());
        assertEquals(0.071, profile.latency().originalP50Millis());
        assertTrue(profile.latency().where().contains("cpu provider"), profile.latency().where());
        assertEquals("fidelity", profile.judgement().measure());
        assertEquals("real data: 32 samples", profile.judgement().judgedBy());
        assertNull(profile.links().reportHtml(), "the example stored no report.html: no link to one");
        assertEquals(269017L, inOrder.totals().bytesSaved());
        assertEquals(Double.valueOf(11.158), inOrder.totals().medianEventToResultSeconds(),
                "from the first progress event (05:55:00) to the result (05:55:11.158)");
    }

    @Test
    void theParetoSetIsWhatNoOtherCandidateBeatsOnSizeLatencyAndDrop() throws Exception {
        DashboardView view = apply(List.of(example(EventKind.RESULT, "compression-result")));
        List<Candidate> candidates = view.models().get(0).profiles().get(0).candidates();
        assertEquals(5, candidates.size());
        // graph-cleanup is beaten by int8, int4 by the chosen chain (smaller, no drop, faster); int8 is the fastest
        assertEquals(List.of(false, true, false, true, false), candidates.stream().map(Candidate::pareto).toList());
        assertEquals(1, candidates.stream().filter(Candidate::chosen).count());
        assertTrue(candidates.get(4).note().contains("needs calibration data"));
    }

    @Test
    void aFailureAfterTheLastProgressFailsTheModelAndNewerWorkRunsItAgain() throws Exception {
        DashboardState state = new DashboardState(10, "127.0.0.1:9092", Clock.fixed(NOW, ZoneOffset.UTC));
        state.apply(progress(5, "2026-12-02T06:10:00Z"));
        ObjectNode failure = (ObjectNode) json.readTree(read("failure.example.json"));
        failure.put("version", "7");
        state.apply(reader.read(EventKind.FAILURE, record("modelpress.failures", failure.toString())));
        ModelView failed = state.view().models().get(0);
        assertEquals("failed", failed.status());
        assertEquals("verify", failed.failures().get(0).stage());
        state.apply(progress(3, "2026-12-02T06:20:00Z"));
        assertEquals("running", state.view().models().get(0).status(), "sent again, it runs again");
    }

    @Test
    void unreadableRecordsAreRefusedWithAReason() {
        assertEquals("not JSON: Unexpected character ('n' (code 110)): was expecting double-quote to start field name",
                assertThrows(MalformedEvent.class, () -> reader.read(EventKind.RESULT, record("t", "{not json"))).getMessage());
        assertEquals("no version in the data", assertThrows(MalformedEvent.class,
                () -> reader.read(EventKind.PROGRESS, record("t", "{\"modelId\":\"m\"}"))).getMessage());
        assertEquals("no profile in the data", assertThrows(MalformedEvent.class,
                () -> reader.read(EventKind.RESULT, record("t", "{\"modelId\":\"m\",\"version\":\"1\"}"))).getMessage());
        assertEquals("an empty record", assertThrows(MalformedEvent.class,
                () -> reader.read(EventKind.RESULT, record("t", ""))).getMessage());
    }

    @Test
    void beyondTheLimitTheOldestModelIsLetGo() throws Exception {
        DashboardState state = new DashboardState(1, "127.0.0.1:9092", Clock.fixed(NOW, ZoneOffset.UTC));
        state.apply(progress(5, "2026-12-02T06:10:00Z"));
        ObjectNode other = json.createObjectNode().put("modelId", "other").put("version", "1").put("stage", "download")
                .put("fraction", 0.1).put("percent", 10).put("at", "2026-12-02T06:11:00Z");
        state.apply(reader.read(EventKind.PROGRESS, record("p", other.toString())));
        assertEquals(List.of("other"), state.view().models().stream().map(ModelView::modelId).toList());
    }

    private DashboardView apply(List<Event> events) {
        DashboardState state = new DashboardState(10, "127.0.0.1:9092", Clock.fixed(NOW, ZoneOffset.UTC));
        events.forEach(state::apply);
        return state.view();
    }

    private Event progress(int percent, String at) throws Exception {
        ObjectNode data = (ObjectNode) json.readTree(read("progress.example.json"));
        data.put("percent", percent).put("fraction", percent / 100.0).put("at", at);
        return reader.read(EventKind.PROGRESS, record("modelpress.progress", data.toString()));
    }

    private Event example(EventKind kind, String name) throws Exception {
        return reader.read(kind, record("t", read(name + ".example.json")));
    }

    private static String read(String name) throws Exception {
        return Files.readString(Path.of("../../schemas/examples", name));
    }

    private static ConsumerRecord<String, byte[]> record(String topic, String value) {
        return new ConsumerRecord<>(topic, 0, 0, "key", value.getBytes(StandardCharsets.UTF_8));
    }
}
