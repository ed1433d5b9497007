package dev.ldm4j.server;

import io.javalin.http.Context;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.io.SocketChannelEndPoint;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.util.Callback;

/**
 * Notices a client that closes its connection while its request waits in the queue or runs, so its job can be
 * dropped instead of computed for nobody. A request whose body has been read is not read from again until its
 * answer is sent, so Jetty does not see the close by itself: the watch asks to be told when the socket becomes
 * readable, and a readable socket with no bytes waiting is a closed one (bytes waiting are the client's next
 * request: it is still there, and they are left for Jetty). Closing the watch withdraws the interest before the
 * answer is written, so Jetty can read the connection's next request as usual. Jetty's idle timeout fails a
 * pending read of a request that runs long without closing the connection; the watch then goes on watching.
 */
final class DisconnectWatch implements AutoCloseable {
    private static final DisconnectWatch NONE = new DisconnectWatch(null);

    private final AbstractEndPoint endPoint;
    private final AtomicBoolean closed = new AtomicBoolean();

    private DisconnectWatch(AbstractEndPoint endPoint) {
        this.endPoint = endPoint;
    }

    /** Watches {@code ctx}'s connection; {@code onGone} runs (once, on a Jetty thread) if the client leaves. */
    static DisconnectWatch start(Context ctx, Runnable onGone) {
        Request request = Request.getBaseRequest(ctx.req());
        EndPoint ep = request == null || request.getHttpChannel() == null ? null
                : request.getHttpChannel().getEndPoint();
        // HTTP/1.1 over a plain socket only; anything else is not watched
        if (!(ep instanceof SocketChannelEndPoint socket)) {
            return NONE;
        }
        DisconnectWatch watch = new DisconnectWatch(socket);
        Callback callback = new Callback() {
            @Override
            public void succeeded() {
                if (watch.closed.get()) {
                    return;
                }
                int waiting;
                try {
                    waiting = socket.getChannel().socket().getInputStream().available();
                } catch (IOException | RuntimeException e) {
                    waiting = 0;
                }
                if (waiting == 0 && watch.closed.compareAndSet(false, true)) {
                    onGone.run();
                }
            }

            @Override
            public void failed(Throwable x) {
                if (x instanceof CancellationException || watch.closed.get()) {
                    return; // withdrawn by close(): the answer is on its way
                }
                if (x instanceof TimeoutException && socket.isOpen()) {
                    // Jetty's idle timeout fails a pending read of a long request but keeps the connection:
                    // watch on
                    socket.tryFillInterested(this);
                    return;
                }
                if (watch.closed.compareAndSet(false, true)) {
                    onGone.run();
                }
            }
        };
        return socket.tryFillInterested(callback) ? watch : NONE;
    }

    @Override
    public void close() {
        if (endPoint != null && closed.compareAndSet(false, true)) {
            endPoint.getFillInterest().onFail(new CancellationException("answered"));
        }
    }
}
