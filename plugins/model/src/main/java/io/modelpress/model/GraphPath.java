package io.modelpress.model;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Where a graph sits in a model: the main graph, or a subgraph held by an attribute of a node
 * (If branches, Loop and Scan bodies), possibly nested.
 */
public record GraphPath(List<Step> steps) {

    public static final GraphPath MAIN = new GraphPath(List.of());

    /** One level down: node {@code nodeIndex} of the parent graph, attribute {@code attribute}, graph {@code graphIndex} of it. */
    public record Step(int nodeIndex, String nodeName, String attribute, int graphIndex) {
        @Override
        public String toString() {
            String node = nodeName.isEmpty() ? "#" + nodeIndex : nodeName;
            return node + "." + attribute + (graphIndex > 0 ? "[" + graphIndex + "]" : "");
        }
    }

    public GraphPath {
        steps = List.copyOf(steps);
    }

    public GraphPath child(int nodeIndex, String nodeName, String attribute, int graphIndex) {
        List<Step> next = new ArrayList<>(steps);
        next.add(new Step(nodeIndex, nodeName, attribute, graphIndex));
        return new GraphPath(Collections.unmodifiableList(next));
    }

    public boolean isMain() {
        return steps.isEmpty();
    }

    public int depth() {
        return steps.size();
    }

    @Override
    public String toString() {
        if (steps.isEmpty()) {
            return "main";
        }
        StringBuilder text = new StringBuilder("main");
        for (Step step : steps) {
            text.append('/').append(step);
        }
        return text.toString();
    }
}
