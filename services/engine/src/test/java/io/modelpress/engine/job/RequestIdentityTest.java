package io.modelpress.engine.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.modelpress.engine.ChainStep;
import io.modelpress.engine.CompressionReport.PlanEntry;
import io.modelpress.engine.plan.Budget;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.spi.HardwareProfile;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * The digests name stored results and output events, so they are pinned to the values the service
 * has always computed: a change here would leave every stored result unfound and every event id new.
 */
class RequestIdentityTest {

    private static final HardwareProfile VNNI = HardwareProfiles.builtIn().require("x86-vnni");
    private static final List<PlanEntry> PLAN = List.of(new PlanEntry("graph-cleanup", "1.0.0", Map.of()),
            new PlanEntry("int8-dynamic", "1.0.0",
                    Map.of("per-channel", "true", "reduce-range", "false", "weight-type", "int8", "ops", "MatMul")));

    @Test
    void planDigestIsTheOneStoredResultsAreNamedBy() {
        assertEquals("dfe3745c3e78744c", RequestIdentity.planDigest(VNNI, PLAN));
    }

    @Test
    void thePlannersRequestHoldsTheBudgetThePluginsAndTheData() {
        PlanChoice planned = PlanChoice.planned(Budget.of(VNNI).withTimeLimit(Duration.ofSeconds(90)));
        List<String> plugins = List.of("int8-dynamic@1.2.0", "fp16@1.0.0", "graph-cleanup@1.0.0");
        String digest = RequestIdentity.requestDigest(VNNI, planned, List.of(), plugins, Optional.of("ab".repeat(32)),
                Optional.empty());
        assertEquals("e5addfc5a6869d49", digest);
        assertNotEquals(digest, RequestIdentity.requestDigest(VNNI, planned, List.of(), plugins, Optional.empty(),
                Optional.empty()), "other calibration data is another request");
        assertNotEquals(digest, RequestIdentity.requestDigest(VNNI,
                PlanChoice.planned(Budget.of(VNNI).withTimeLimit(Duration.ofSeconds(91))), List.of(), plugins,
                Optional.of("ab".repeat(32)), Optional.empty()), "another budget is another request");
    }

    @Test
    void aNamedChainsRequestHoldsItsPlanNotThePlugins() {
        PlanChoice named = PlanChoice.named(PlanChoice.EVENT, List.of(ChainStep.parse("graph-cleanup"),
                ChainStep.parse("int8-dynamic")));
        String digest = RequestIdentity.requestDigest(VNNI, named, PLAN, List.of("fp16@1.0.0"), Optional.empty(),
                Optional.of("cd".repeat(32)));
        assertEquals("c6cb4111beac4442", digest);
        assertEquals(digest, RequestIdentity.requestDigest(VNNI, PlanChoice.named(PlanChoice.COMMAND_LINE,
                List.of(ChainStep.parse("fp16"))), PLAN, List.of(), Optional.empty(), Optional.of("cd".repeat(32))),
                "who named the chain is no part of the request");
    }

    @Test
    void eventIdsAndTheCanonicalTextAreFixed() {
        assertEquals("f776429e05a1e96375313fb274a9b3f2", RequestIdentity.eventId("m1", "3", "ef".repeat(32),
                "x86-vnni", "0123456789abcdef", "io.modelpress.compression.result"));
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("profile", VNNI);
        request.put("budget", new RequestIdentity.BudgetView(1, OptionalLong.of(1 << 20), OptionalDouble.of(2.5),
                OptionalLong.of(64L << 20), 0.98, 0.9, 60_000));
        request.put("plan", PLAN);
        request.put("labels", Map.of("team", "vision", "stage", "prod", "owner", "ml", "tier", "gold"));
        assertEquals("4887a7ed9bdee80a", CanonicalJson.digest(request, 16));
    }

    @Test
    void overridesReplaceOnlyWhatTheyName() {
        assertSame(VNNI, BudgetOverrides.NONE.applyTo(VNNI, false), "nothing overridden: the profile itself");
        BudgetOverrides size = new BudgetOverrides(OptionalLong.of(1234), OptionalLong.empty(), OptionalDouble.empty(),
                OptionalDouble.of(0.5), OptionalDouble.empty(), OptionalDouble.empty());
        HardwareProfile applied = size.applyTo(VNNI, true);
        assertEquals(OptionalLong.of(1234), applied.sizeBudgetBytes());
        assertEquals(0.5, applied.maxAccuracyDrop());
        assertEquals(VNNI.latencyBudgetMillis(), applied.latencyBudgetMillis());
        assertEquals(VNNI.precisions(), applied.precisions());
        assertEquals(true, applied.requireRealData());
        assertNotEquals(RequestIdentity.planDigest(VNNI, PLAN), RequestIdentity.planDigest(applied, PLAN));
    }
}
