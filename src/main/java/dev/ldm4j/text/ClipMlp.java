package dev.ldm4j.text;

import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code mlp}: fc1, activation, fc2. */
final class ClipMlp {
    private final Linear fc1;
    private final Linear fc2;
    private final Activation act;

    ClipMlp(Weights w, ClipTextConfig c) {
        this.fc1 = new Linear(w.sub("fc1"), c.hiddenSize(), c.intermediateSize());
        this.fc2 = new Linear(w.sub("fc2"), c.intermediateSize(), c.hiddenSize());
        this.act = c.hiddenAct();
    }

    Tensor forward(Tensor x) {
        return fc2.forward(act.apply(fc1.forward(x)));
    }
}
