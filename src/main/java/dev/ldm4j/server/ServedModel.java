package dev.ldm4j.server;

import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.LoraPatch;
import dev.ldm4j.model.ModelLoader;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model the server generates with, and what it was loaded as: which checkpoint and which LoRAs merged into
 * its weights. A merge changes the weights in place, so a request that wants another LoRA set (none included)
 * gets the checkpoint loaded again from its file with that set. Only the worker thread calls {@link #ensure}, so
 * a switch waits for the running job and no job sees a half-loaded model. A model given by the caller is the
 * caller's to close; the ones loaded here are closed when replaced, before the next is loaded (two multi-GB
 * models need not fit at once).
 */
final class ServedModel implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ServedModel.class);

    /** The settings every load keeps (precision, device, VAE): the first model's. */
    private final ModelLoader.Options base;
    private volatile LatentDiffusionModel model;
    private volatile ModelEntry entry;
    private List<LoraLibrary.Use> loras = List.of();
    private boolean owned;

    /** Serves {@code model}, loaded by the caller from {@code entry} without LoRAs. */
    ServedModel(LatentDiffusionModel model, ModelEntry entry, boolean owned) {
        this.model = model;
        this.entry = entry;
        this.owned = owned;
        this.base = model.options();
    }

    /** The checkpoint served now (or being loaded). */
    ModelEntry entry() {
        return entry;
    }

    /** The loaded model; call on the worker after {@link #ensure}. */
    LatentDiffusionModel model() {
        return model;
    }

    /** Loads {@code wanted} with {@code wantedLoras} unless that is what is loaded; on the worker thread only. */
    void ensure(ModelEntry wanted, List<LoraLibrary.Use> wantedLoras) {
        if (model != null && wanted == entry && wantedLoras.equals(loras)) {
            return;
        }
        release();
        entry = wanted;
        LoraPatch patch = LoraLibrary.patch(wantedLoras);
        ModelLoader.Options o = new ModelLoader.Options(wanted.file(), wanted.config(), base.vae(), base.taesd(),
                base.precision(), base.vaePrecision(), base.device(), patch == null ? null : List.of(patch),
                base.embeddings());
        LOG.info("loading {}{}", wanted.file(), wantedLoras.isEmpty() ? "" : " with LoRAs " + wantedLoras);
        LatentDiffusionModel loaded = ModelLoader.load(o);
        try {
            if (patch != null) {
                patch.check();
            }
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        }
        wanted.sha256(); // the served model's title carries its hash, as A1111's does
        model = loaded;
        loras = wantedLoras;
        owned = true;
    }

    /** Frees the loaded model if it is this server's; the next {@link #ensure} loads again. */
    private void release() {
        LatentDiffusionModel old = model;
        model = null;
        loras = List.of();
        if (old != null && owned) {
            old.close();
        }
    }

    @Override
    public void close() {
        release();
    }
}
