package io.modelpress.plugins.distillation;

import java.util.List;
import java.util.Objects;

/**
 * A student architecture: its layers from the input to the logits, and one line for people.
 *
 * @param layers input to logits (a Softmax/LogSoftmax head and type casts are added on export)
 * @param description e.g. "MLP 784-64-10 with Relu"
 */
record Student(List<Layer> layers, String description) {

    Student {
        layers = List.copyOf(layers);
        Objects.requireNonNull(description, "description is null");
    }

    long parameters() {
        return layers.stream().mapToLong(Layer::parameters).sum();
    }
}
