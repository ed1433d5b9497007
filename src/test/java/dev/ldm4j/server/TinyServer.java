package dev.ldm4j.server;

import dev.ldm4j.Fixtures;
import dev.ldm4j.model.LatentDiffusionModel;
import dev.ldm4j.model.ModelLoader;
import dev.ldm4j.nn.Torch;

/** A server on a free loopback port serving the tiny SD 1.x fixture model, which it loads; closed with it. */
record TinyServer(LatentDiffusionModel model, ApiServer server) implements AutoCloseable {
    static TinyServer start() {
        Torch.load();
        LatentDiffusionModel model = ModelLoader.load(new ModelLoader.Options(
                Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"), null, null));
        try {
            return new TinyServer(model, ApiServer.start(model, new ApiServer.Settings("127.0.0.1", 0, 4,
                    Fixtures.path("sd1-tiny/model.safetensors"), Fixtures.path("sd1-tiny/config.yaml"))));
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /** Closes what {@code tiny} holds; null (the fixtures absent, the class skipped) is nothing to close. */
    static void close(TinyServer tiny) {
        if (tiny != null) {
            tiny.close();
        }
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        // the server first: no step of a job may run on a closed model
        server.close();
        model.close();
    }
}
