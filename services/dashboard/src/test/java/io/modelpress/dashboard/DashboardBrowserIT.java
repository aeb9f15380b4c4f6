package io.modelpress.dashboard;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.UploadObjectArgs;
import io.modelpress.engine.CompressionEngine;
import io.modelpress.engine.ProgressListener;
import io.modelpress.engine.ReportHtml;
import io.modelpress.engine.Reports;
import io.modelpress.engine.plan.Budget;
import io.modelpress.engine.plan.PlanRequest;
import io.modelpress.engine.plan.Planner;
import io.modelpress.engine.plugin.PluginRegistry;
import io.modelpress.engine.profile.HardwareProfiles;
import io.modelpress.localstack.LocalStack;
import io.modelpress.model.LoadLimits;
import io.modelpress.spi.HardwareProfile;
import io.modelpress.testkit.MnistModels;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard as a person sees it: the packaged service against a real Kafka broker and S3
 * server, driven in Debian's chromium. Events are published after the page opened; every check
 * waits for the page to change by itself (the page is never reloaded, which a marker left in it proves).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DashboardBrowserIT {

    private static final String MNIST = "vision/mnist-mlp";
    private static final String KWS = "speech/keyword-spotter";
    private static final String PROFILE = "x86-vnni";
    private static final String BUCKET = "models";
    private static final Duration WAIT = Duration.ofSeconds(45);

    private final ObjectMapper json = new ObjectMapper();
    private Path work;
    private LocalStack stack;
    private TestEvents events;
    private DashboardProcess dashboard;
    private int port;
    private WebDriver browser;
    private JsonNode report;
    private Path reportFolder;
    private ObjectNode result;

    @BeforeAll
    void start() throws Exception {
        work = Files.createTempDirectory("modelpress-dashboard-it-");
        stack = LocalStack.start(work.resolve("stack"));
        createTopics();
        events = new TestEvents(stack.bootstrapServers());
        planRealReport();
        port = freePort();
        dashboard = startDashboard();
        browser = chromium();
        browser.get(dashboard.url().toString());
        ((JavascriptExecutor) browser).executeScript("window.__notReloaded = true;");
    }

    @AfterAll
    void stop() throws Exception {
        if (browser != null) {
            browser.quit();
        }
        if (dashboard != null) {
            dashboard.close();
        }
        if (events != null) {
            events.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    @Order(1)
    void anEmptyPageSaysThatNothingWasSeenYet() {
        String empty = await(driver -> visibleText("empty").contains("No model has been seen yet") ? visibleText("empty") : null);
        assertTrue(empty.contains("No model has been seen yet"), empty);
        await(driver -> text("connection").startsWith("Live") ? true : null);
    }

    @Test
    @Order(2)
    void aNewModelAndItsProgressAppearWithoutReload() {
        Instant now = Instant.now();
        events.progress(MNIST, "1", null, 5, "download", now.minusSeconds(30));
        WebElement model = await(driver -> model(MNIST));
        assertEquals("running", model.getAttribute("data-status"));

        events.progress(MNIST, "1", PROFILE, 40, "compress x86-vnni: plan 3/9", now.minusSeconds(20));
        await(driver -> "40".equals(progressValue(MNIST)) ? true : null);
        events.progress(MNIST, "1", PROFILE, 75, "compress x86-vnni: plan 7/9", now.minusSeconds(10));
        await(driver -> "75".equals(progressValue(MNIST)) ? true : null);
        assertTrue(model(MNIST).getText().contains("plan 7/9"), model(MNIST).getText());
        assertNotReloaded();
    }

    @Test
    @Order(3)
    void aResultShowsItsFiguresAndTheCandidatesChart() throws Exception {
        Instant at = Instant.now();
        result = events.result(MNIST, "1", report, "s3://" + BUCKET + "/registry/mnist/1/modelpress/" + PROFILE + "/"
                + report.path("compressed").path("digest").asText() + "/", "0cffd75cac4504ba",
                Map.of("team", "vision", "stage", "staging"), at);
        events.benchmark(MNIST, "1", report, "0cffd75cac4504ba", at);
        await(driver -> "complete".equals(model(MNIST).getAttribute("data-status")) ? true : null);
        WebElement row = await(driver -> {
            WebElement candidate = model(MNIST).findElement(By.cssSelector("tr[data-profile='" + PROFILE + "']"));
            return candidate.findElement(By.cssSelector("td.latency")).getText().contains("provider") ? candidate : null;
        });

        String size = row.findElement(By.cssSelector("td.size")).getText();
        assertTrue(size.contains(ReportHtmlFigures.bytes(report.path("original").path("bytes").asLong()) + " → "
                + ReportHtmlFigures.bytes(report.path("compressed").path("bytes").asLong())), size);
        String latency = row.findElement(By.cssSelector("td.latency")).getText();
        assertTrue(latency.contains(" → ") && latency.contains("ms"), latency);
        assertTrue(latency.contains("cpu provider"), latency);
        String judged = row.findElement(By.cssSelector("td.judged")).getText();
        assertTrue(judged.contains(String.format("top-1 %.2f %%", 100 * report.path("accuracy").path("top1Before").asDouble())),
                judged);
        assertTrue(judged.contains("labelled examples"), judged);
        String chain = row.findElement(By.cssSelector("td.chain")).getText();
        assertTrue(chain.contains(report.path("plan").get(0).path("plugin").asText()), chain);

        WebElement plot = model(MNIST).findElement(By.cssSelector(".plot"));
        long measured = countTrials(trial -> trial.path("outcome").asText().equals("measured")
                && trial.path("drop").isNumber() && trial.path("bytes").isNumber());
        assertTrue(measured >= 2, "the planner measured at least two candidates: " + measured);
        assertEquals(String.valueOf(measured), plot.getAttribute("data-points"));
        assertEquals("1", plot.getAttribute("data-chosen"));
        assertEquals(String.valueOf(report.path("planning").path("pareto").size()), plot.getAttribute("data-pareto"),
                "the page marks the same Pareto set as the planner");
        assertFalse(plot.findElements(By.cssSelector(".uplot canvas")).isEmpty(), "uPlot drew the chart");
        assertEquals(report.path("planning").path("trials").size(),
                model(MNIST).findElements(By.cssSelector("table.candidates tr.candidate")).size());

        // the second view: latency against drop, from the keyboard
        WebElement latencyButton = model(MNIST).findElement(By.cssSelector("button[data-axis='latency']"));
        latencyButton.sendKeys(" ");
        await(driver -> "latency".equals(model(MNIST).findElement(By.cssSelector(".plot")).getAttribute("data-axis")) ? true
                : null);
        assertTrue(Integer.parseInt(model(MNIST).findElement(By.cssSelector(".plot")).getAttribute("data-points")) >= 1);
        model(MNIST).findElement(By.cssSelector("button[data-axis='size']")).sendKeys(" ");
        assertNotReloaded();
    }

    @Test
    @Order(4)
    void theReportPageIsLinkedAndShowsTheReportsFigures() {
        String href = await(driver -> model(MNIST).findElements(By.linkText("report.html")).stream().findFirst()
                .map(link -> link.getAttribute("href")).orElse(null));
        String main = browser.getWindowHandle();
        browser.switchTo().newWindow(org.openqa.selenium.WindowType.TAB);
        try {
            browser.get(href);
            checkReportPage();
            // and the same page opened from disk, as the command line leaves it
            browser.get(reportFolder.resolve(ReportHtml.FILE).toUri().toString());
            checkReportPage();
        } finally {
            browser.close();
            browser.switchTo().window(main);
        }
        assertNotReloaded();
    }

    private void checkReportPage() {
        String sizes = browser.findElement(By.id("sizes")).getText();
        assertTrue(sizes.contains(ReportHtmlFigures.bytes(report.path("compressed").path("bytes").asLong())), sizes);
        String accuracy = browser.findElement(By.id("accuracy")).getText();
        assertTrue(accuracy.contains(String.format("%.2f %%", 100 * report.path("accuracy").path("top1After").asDouble())),
                accuracy);
        assertEquals(report.path("planning").path("trials").size() + 1,
                browser.findElements(By.cssSelector("#trials tr")).size(), "a row per trial under the header");
        long measured = countTrials(trial -> trial.path("bytes").isNumber() && trial.path("drop").isNumber());
        assertEquals(measured, browser.findElements(By.cssSelector("#size-chart circle.pareto, #size-chart circle.trial")).size());
        assertEquals(1, browser.findElements(By.cssSelector("#size-chart circle.chosen")).size());
        assertTrue(browser.findElement(By.id("latency")).getText().contains("median"));
    }

    @Test
    @Order(5)
    void aFailureShowsItsStageReasonAndWhetherARetryMayHelp() {
        Instant now = Instant.now();
        events.progress(KWS, "2", null, 2, "download", now.minusSeconds(2));
        events.failure(KWS, "2", null, "download", "s3://models/registry/kws/2/model.onnx does not exist", true, now);
        WebElement failure = await(driver -> {
            WebElement model = model(KWS);
            return model != null && "failed".equals(model.getAttribute("data-status"))
                    ? model.findElement(By.cssSelector(".failure")) : null;
        });
        assertTrue(failure.getText().contains("failed at download"), failure.getText());
        assertTrue(failure.getText().contains("s3://models/registry/kws/2/model.onnx does not exist"), failure.getText());
        assertTrue(failure.getText().contains("retryable: sending the same event again may succeed"), failure.getText());
        assertNotReloaded();
    }

    @Test
    @Order(6)
    void filtersNarrowTheModelsShown() {
        Select status = new Select(browser.findElement(By.id("status-filter")));
        status.selectByValue("failed");
        assertTrue(model(KWS).isDisplayed());
        assertFalse(model(MNIST).isDisplayed());
        status.selectByValue("");

        Select label = new Select(await(driver -> {
            WebElement select = browser.findElement(By.id("label-filter"));
            return select.getText().contains("team=vision") ? select : null;
        }));
        label.selectByValue("team=vision");
        assertTrue(model(MNIST).isDisplayed());
        assertFalse(model(KWS).isDisplayed());
        label.selectByValue("");

        Select profile = new Select(browser.findElement(By.id("profile-filter")));
        profile.selectByValue(PROFILE);
        assertTrue(model(MNIST).isDisplayed());
        assertFalse(model(KWS).isDisplayed(), "the failed model never reached a profile");
        profile.selectByValue("");

        WebElement search = browser.findElement(By.id("search"));
        search.sendKeys("keyword");
        assertTrue(model(KWS).isDisplayed());
        assertFalse(model(MNIST).isDisplayed());
        search.sendKeys("-nothing-like-it");
        assertTrue(visibleText("empty").contains("None of the 2 models matches"), visibleText("empty"));
        search.clear();
        search.sendKeys(" ");
        search.sendKeys(org.openqa.selenium.Keys.BACK_SPACE);
        assertTrue(model(MNIST).isDisplayed() && model(KWS).isDisplayed());
    }

    @Test
    @Order(7)
    void aMalformedEventIsSkippedAndCountedAndThePageGoesOn() {
        events.garbage(TestEvents.RESULTS, "{not json");
        events.garbage(TestEvents.PROGRESS, "{\"modelId\":\"no-version\"}");
        String count = await(driver -> "2".equals(textOrNull("malformed-count")) ? "2" : null);
        assertEquals("2", count);
        String note = text("malformed");
        assertTrue(note.contains("no version in the data") || note.contains("not JSON"), note);
        events.progress("text/tiny-bert", "3", PROFILE, 30, "compress x86-vnni: plan 2/9", Instant.now());
        assertNotNull(await(driver -> model("text/tiny-bert")), "events after a malformed one still appear");
        assertNotReloaded();
    }

    @Test
    @Order(9)
    void aScreenshotOfThePageWithResults() throws IOException {
        Path screenshot = Path.of(System.getProperty("modelpress.screenshot", "target/dashboard.png"));
        Files.createDirectories(screenshot.getParent());
        // tall enough for every model of the page
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 1700));
        byte[] png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 1400));
        Files.write(screenshot, png);
        assertTrue(png.length > 10_000, "a screenshot with something on it");
    }

    @Test
    @Order(8)
    void onAPhoneThePageFitsTheScreenWidth() {
        browser.manage().window().setSize(new org.openqa.selenium.Dimension(390, 844));
        try {
            JavascriptExecutor page = (JavascriptExecutor) browser;
            Boolean fits = await(driver -> (Boolean) page.executeScript(
                    "return document.documentElement.scrollWidth <= window.innerWidth + 1 || null;"));
            assertEquals(Boolean.TRUE, fits, "no sideways scrolling of the page");
            WebElement head = model(MNIST).findElement(By.cssSelector("table.profiles thead"));
            assertFalse(head.isDisplayed(), "each profile is a card of labelled lines, not a wide table");
            assertTrue(model(MNIST).findElement(By.cssSelector("td.size")).isDisplayed());
        } finally {
            browser.manage().window().setSize(new org.openqa.selenium.Dimension(1280, 1400));
        }
        assertNotReloaded();
    }

    @Test
    @Order(10)
    void aRestartedDashboardRebuildsTheSameStateFromTheTopics() throws Exception {
        JsonNode before = models(json.readTree(dashboard.get("/api/state")));
        dashboard.close();
        await(driver -> text("connection").startsWith("Lost the connection") ? true : null);
        // mid-stream: an event while no dashboard runs
        events.progress("text/tiny-bert", "3", PROFILE, 60, "compress x86-vnni: plan 5/9", Instant.now());

        dashboard = startDashboard();
        await(driver -> "60".equals(progressValue("text/tiny-bert")) ? true : null);
        // the four topics are read side by side: wait until the slowest has caught up
        JsonNode after = await(driver -> {
            JsonNode state = state();
            return state != null && strip(before, "text/tiny-bert").equals(strip(models(state), "text/tiny-bert"))
                    && state.path("malformed").path("count").asInt() == 2 ? state : null;
        });
        assertEquals(strip(before, "text/tiny-bert"), strip(models(after), "text/tiny-bert"),
                "every model the first instance showed, the same after the restart");
        assertEquals(2, after.path("malformed").path("count").asInt(), "the skipped records are counted again");
        assertEquals("complete", model(MNIST).getAttribute("data-status"));
        assertEquals("failed", model(KWS).getAttribute("data-status"));
        assertNotReloaded();
    }

    @Test
    @Order(11)
    void whenTheBrokerIsGoneThePageSaysSoAndKeepsWhatItHad() {
        stack.close();
        String banner = await(driver -> visibleText("broker").contains("unreachable") ? visibleText("broker") : null);
        assertTrue(banner.contains(stack.bootstrapServers()), banner);
        assertEquals("complete", model(MNIST).getAttribute("data-status"));
    }

    // ---- set-up ----------------------------------------------------------------------------------

    /** The planner on a small real model (an MNIST classifier): report.json and report.html, stored in S3. */
    private void planRealReport() throws Exception {
        HardwareProfile profile = HardwareProfiles.builtIn().require(PROFILE);
        Planner planner = new Planner(new CompressionEngine(PluginRegistry.discover(getClass().getClassLoader()),
                LoadLimits.DEFAULT));
        Path model = MnistModels.copy(work.resolve("model"));
        reportFolder = work.resolve("report");
        planner.compress(new PlanRequest(model, profile, Budget.of(profile).withMaxLatencyMillis(1000), reportFolder,
                Optional.of(MnistModels.calibration("pixels", 8000, 8200, 100)),
                Optional.of(MnistModels.calibration("pixels", 8000, 9000, 500))), ProgressListener.NONE);
        report = json.readTree(reportFolder.resolve(Reports.FILE).toFile());
        MinioClient s3 = MinioClient.builder().endpoint(stack.s3Endpoint().toString())
                .credentials(stack.accessKey(), stack.secretKey()).region("us-east-1").build();
        s3.makeBucket(MakeBucketArgs.builder().bucket(BUCKET).build());
        String prefix = "registry/mnist/1/modelpress/" + PROFILE + "/" + report.path("compressed").path("digest").asText()
                + "/";
        upload(s3, prefix + "reports/0cffd75cac4504ba.json", reportFolder.resolve(Reports.FILE));
        upload(s3, prefix + "reports/0cffd75cac4504ba.html", reportFolder.resolve(ReportHtml.FILE));
        upload(s3, prefix + "model.onnx", reportFolder.resolve("model.onnx"));
    }

    private static void upload(MinioClient s3, String key, Path file) throws Exception {
        s3.uploadObject(UploadObjectArgs.builder().bucket(BUCKET).object(key).filename(file.toString()).build());
    }

    private void createTopics() throws Exception {
        Properties config = new Properties();
        config.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.bootstrapServers());
        try (Admin admin = Admin.create(config)) {
            admin.createTopics(Set.of(TestEvents.RESULTS, TestEvents.BENCHMARKS, TestEvents.PROGRESS, TestEvents.FAILURES)
                    .stream().map(topic -> new NewTopic(topic, 2, (short) 1)).toList()).all().get();
        }
    }

    private DashboardProcess startDashboard() throws IOException {
        return DashboardProcess.start(port, Map.of("KAFKA_BOOTSTRAP_SERVERS", stack.bootstrapServers(),
                "MODELPRESS_S3_ENDPOINT", stack.s3Endpoint().toString(), "MODELPRESS_S3_ACCESS_KEY", stack.accessKey(),
                "MODELPRESS_S3_SECRET_KEY", stack.secretKey(), "MODELPRESS_DASHBOARD_BROKER_CHECK_INTERVAL_MS", "1000"),
                work.resolve("dashboard.log"));
    }

    private static WebDriver chromium() {
        for (String file : List.of("/usr/bin/chromium", "/usr/bin/chromedriver")) {
            if (!Files.isExecutable(Path.of(file))) {
                throw new IllegalStateException(file + " is missing: apt-get install --no-install-recommends chromium chromium-driver");
            }
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary("/usr/bin/chromium");
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400",
                "--allow-file-access-from-files");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File("/usr/bin/chromedriver")).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    // ---- reading the page ------------------------------------------------------------------------

    private <T> T await(Function<WebDriver, T> condition) {
        return new WebDriverWait(browser, WAIT).ignoring(org.openqa.selenium.StaleElementReferenceException.class)
                .ignoring(NullPointerException.class).until(condition);
    }

    private WebElement model(String modelId) {
        return browser.findElements(By.cssSelector("article.model")).stream()
                .filter(element -> modelId.equals(element.getAttribute("data-model-id"))).findFirst().orElse(null);
    }

    private String progressValue(String modelId) {
        WebElement model = model(modelId);
        if (model == null) {
            return null;
        }
        return model.findElements(By.cssSelector("progress.model-progress")).stream().findFirst()
                .map(bar -> bar.getAttribute("value")).orElse(null);
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getAttribute("textContent");
    }

    private String visibleText(String id) {
        WebElement element = browser.findElement(By.id(id));
        return element.isDisplayed() ? element.getText() : "";
    }

    private String textOrNull(String id) {
        return browser.findElements(By.id(id)).stream().findFirst().map(WebElement::getText).orElse(null);
    }

    private void assertNotReloaded() {
        assertEquals(Boolean.TRUE, ((JavascriptExecutor) browser).executeScript("return window.__notReloaded === true;"),
                "the page was never reloaded");
    }

    private long countTrials(java.util.function.Predicate<JsonNode> which) {
        long count = 0;
        for (JsonNode trial : report.path("planning").path("trials")) {
            if (which.test(trial)) {
                count++;
            }
        }
        return count;
    }

    private JsonNode state() {
        try {
            return json.readTree(dashboard.get("/api/state"));
        } catch (IOException e) {
            return null; // not answering yet
        }
    }

    private static JsonNode models(JsonNode state) {
        return state.path("models");
    }

    /** The models without one of them, and without the times of the last look (which differ by nature). */
    private static JsonNode strip(JsonNode models, String without) {
        ArrayNode kept = new ObjectMapper().createArrayNode();
        for (JsonNode model : models) {
            if (!model.path("modelId").asText().equals(without)) {
                kept.add(model);
            }
        }
        return kept;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** The byte figures as both pages write them. */
    static final class ReportHtmlFigures {
        static String bytes(long bytes) {
            String[] units = {"B", "KB", "MB", "GB"};
            double value = bytes;
            int unit = 0;
            while (Math.abs(value) >= 1000 && unit < units.length - 1) {
                value /= 1000;
                unit++;
            }
            return unit == 0 ? bytes + " B" : String.format(java.util.Locale.ROOT, "%.1f", value) + " " + units[unit];
        }
    }
}
