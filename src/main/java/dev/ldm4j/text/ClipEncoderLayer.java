package dev.ldm4j.text;

import dev.ldm4j.nn.LayerNorm;
import dev.ldm4j.nn.Weights;
import org.bytedeco.pytorch.Tensor;

/** {@code encoder.layers.N}: pre-LayerNorm transformer layer, x += attn(ln1(x)); x += mlp(ln2(x)). */
final class ClipEncoderLayer {
    private final LayerNorm layerNorm1;
    private final ClipAttention selfAttn;
    private final LayerNorm layerNorm2;
    private final ClipMlp mlp;

    ClipEncoderLayer(Weights w, ClipTextConfig c) {
        this.layerNorm1 = new LayerNorm(w.sub("layer_norm1"), c.hiddenSize(), c.layerNormEps());
        this.selfAttn = new ClipAttention(w.sub("self_attn"), c);
        this.layerNorm2 = new LayerNorm(w.sub("layer_norm2"), c.hiddenSize(), c.layerNormEps());
        this.mlp = new ClipMlp(w.sub("mlp"), c);
    }

    Tensor forward(Tensor x) {
        Tensor h = x.add(selfAttn.forward(layerNorm1.forward(x)));
        return h.add(mlp.forward(layerNorm2.forward(h)));
    }
}
