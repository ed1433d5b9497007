package dev.ldm4j.text;

import dev.ldm4j.nn.Linear;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code mlp}: c_fc, activation, c_proj. */
final class OpenClipMlp {
    private final Linear cFc;
    private final Linear cProj;
    private final Activation act;

    OpenClipMlp(Weights w, OpenClipTextConfig c) {
        this.cFc = new Linear(w.sub("c_fc"), c.width(), c.mlpWidth());
        this.cProj = new Linear(w.sub("c_proj"), c.mlpWidth(), c.width());
        this.act = c.act();
    }

    Tensor forward(Tensor x) {
        return cProj.forward(act.apply(cFc.forward(x)));
    }
}
