package io.modelpress.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** report.html from report trees as different versions write them: what is present renders, nothing breaks it. */
class ReportHtmlTest {

    @Test
    void aPlannedReportShowsItsTablesAndMarksTheChosenAndParetoCandidates() throws Exception {
        JsonNode report = Reports.json().readTree("""
                {"reportVersion":1,"status":"complete","profile":"x86-vnni",
                 "original":{"file":"model.onnx","digest":"aa","bytes":400000,"parameters":100000,"weightBytes":400000},
                 "compressed":{"file":"model.onnx","digest":"bb","bytes":100000,"parameters":100000,"weightBytes":100000},
                 "plan":[{"plugin":"graph-cleanup","version":"0.1.0","options":{}},
                         {"plugin":"int8-dynamic","version":"0.1.0","options":{"per-channel":"true"}}],
                 "steps":[],"gains":{"sizeRatio":4.0,"parameterRatio":1.0,"bytesSaved":300000},
                 "fidelity":{"data":"32 samples of the calibration data","runsInOnnxRuntime":true,
                   "outputs":[{"output":"logits","meanCosine":0.99991,"minCosine":0.9991,"maxAbsError":0.01,
                     "meanAbsError":0.001,"relativeError":0.002,"top1Agreement":1.0,"samples":32}]},
                 "accuracy":{"output":"logits","examples":500,"top1Before":0.97,"top1After":0.968,
                   "top5Before":0.999,"top5After":0.999,"top1Drop":0.002},
                 "environment":{"cpu":"EPYC","cores":2,"os":"Linux","java":"17","onnxRuntime":"1.29.0"},
                 "totalMillis":900,
                 "planning":{"metBudget":true,"explanation":"chose <int8>","dropMeasure":"top-1","budget":{},
                   "chosen":{"index":1},
                   "trials":[{"index":0,"chain":[{"pluginId":"graph-cleanup","options":{}}],"outcome":"measured",
                               "bytes":400000,"drop":0.0,"latencyMillis":1.2,"violations":[],"rationale":"lossless"},
                             {"index":1,"chain":[{"pluginId":"int8-dynamic","options":{}}],"outcome":"measured",
                               "bytes":100000,"drop":0.002,"latencyMillis":0.8,"violations":[]},
                             {"index":2,"chain":[{"pluginId":"int4-block","options":{}}],"outcome":"measured",
                               "bytes":120000,"drop":0.05,"latencyMillis":0.9,"violations":["drop 5.00 points is over 2.00"]},
                             {"index":3,"chain":[{"pluginId":"int8-static","options":{}}],"outcome":"not-tried",
                               "bytes":0,"violations":[],"error":"needs calibration data"}],
                   "pareto":[{"index":0},{"index":1}],"planningMillis":800},
                 "judgedBy":"labelled evaluation data (500 examples)"}
                """);
        String html = ReportHtml.render(report);

        assertTrue(html.contains("400.0 KB</td><td class=\"n\">100.0 KB</td><td class=\"n\">4.00×"), "the size row");
        assertTrue(html.contains("97.00 %") && html.contains("96.80 %"), "top-1 before and after");
        assertTrue(html.contains("0.99991"), "the mean cosine");
        assertTrue(html.contains("chose &lt;int8&gt;"), "text from the report is escaped");
        assertEquals(3, count(html, "<circle class=\"(pareto|trial)\"", "size-chart"), "every measured trial with a drop, once");
        assertEquals(2, count(html, "<circle class=\"pareto\"", "size-chart"));
        assertEquals(1, count(html, "<circle class=\"chosen\"", "size-chart"));
        assertTrue(html.contains("drop 5.00 points is over 2.00"), "why a trial lost");
        assertTrue(html.contains("needs calibration data"), "why a trial was not tried");
        assertTrue(html.contains("<th>judgedBy</th>"), "a field this page has no section for is still shown");
        assertFalse(html.contains("<script src") || html.contains("<link"), "nothing loaded from elsewhere");
    }

    @Test
    void aReportWithFieldsMissingStillRenders() throws Exception {
        String html = ReportHtml.render(Reports.json().readTree("{\"profile\":\"mcu\",\"fidelity\":{\"unavailable\":\"did not load\"}}"));
        assertTrue(html.contains("Not measured: did not load"), html);
        assertTrue(html.contains("Status: <strong class=\"bad\">unknown</strong>"), html);
    }

    /** Occurrences of a pattern inside the SVG with this id. */
    private static int count(String html, String regex, String svgId) {
        int start = html.indexOf("<svg id=\"" + svgId + "\"");
        String svg = html.substring(start, html.indexOf("</svg>", start));
        Matcher matcher = Pattern.compile(regex).matcher(svg);
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        return count;
    }
}
