package dev.ldm4j.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * Sequential little-endian reads from a byte range of a file, buffered, with every length checked against the
 * range before anything is allocated: a corrupt length field fails as "truncated", never as an
 * OutOfMemoryError, however large it claims to be.
 */
final class ByteReader {
    private static final int CHUNK = 1 << 16;

    private final Path path;
    private final FileChannel channel;
    private final long limit;
    private final ByteBuffer buffer;
    /** File position of {@code buffer}'s first byte. */
    private long bufferStart;

    /** Reads {@code [start, limit)} of {@code channel}, the file {@code path} (named in errors). */
    ByteReader(Path path, FileChannel channel, long start, long limit) {
        this.path = path;
        this.channel = channel;
        this.limit = limit;
        this.bufferStart = start;
        // a short range (a ZIP header) gets a buffer of its size, not a chunk
        this.buffer = ByteBuffer.allocate((int) Math.max(8, Math.min(CHUNK, limit - start)))
                .order(ByteOrder.LITTLE_ENDIAN);
        buffer.limit(0);
    }

    /** The file position of the next byte. */
    long position() {
        return bufferStart + buffer.position();
    }

    long remaining() {
        return limit - position();
    }

    int u8() {
        ensure(1);
        return buffer.get() & 0xff;
    }

    int u16() {
        ensure(2);
        return buffer.getShort() & 0xffff;
    }

    /** An unsigned 32-bit value. */
    long u32() {
        ensure(4);
        return buffer.getInt() & 0xffffffffL;
    }

    int s32() {
        ensure(4);
        return buffer.getInt();
    }

    long s64() {
        ensure(8);
        return buffer.getLong();
    }

    /** A big-endian IEEE double (pickle's BINFLOAT). */
    double f64BigEndian() {
        ensure(8);
        return Double.longBitsToDouble(Long.reverseBytes(buffer.getLong()));
    }

    /** The next {@code n} bytes; {@code n} is checked against what is left first. */
    byte[] bytes(long n) {
        if (n < 0 || n > remaining()) {
            throw truncated(n);
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new ModelFileException(path + ": corrupt: a value of " + n + " bytes at byte " + position()
                    + " (more than one array can hold)");
        }
        byte[] out = new byte[(int) n];
        int done = 0;
        while (done < n) {
            if (!buffer.hasRemaining()) {
                fill(1);
            }
            int k = Math.min(buffer.remaining(), out.length - done);
            buffer.get(out, done, k);
            done += k;
        }
        return out;
    }

    /** Bytes up to (not including) the next '\n', at most {@code max} of them. */
    byte[] line(int max) {
        ByteBuffer line = ByteBuffer.allocate(Math.min(max, (int) Math.min(Integer.MAX_VALUE, remaining())));
        while (true) {
            int b = u8();
            if (b == '\n') {
                byte[] out = new byte[line.position()];
                line.flip().get(out);
                return out;
            }
            if (!line.hasRemaining()) {
                throw new ModelFileException(path + ": corrupt pickle: a text line at byte " + position()
                        + " is longer than " + max + " bytes");
            }
            line.put((byte) b);
        }
    }

    void skip(long n) {
        if (n < 0 || n > remaining()) {
            throw truncated(n);
        }
        long target = position() + n;
        if (target <= bufferStart + buffer.limit()) {
            buffer.position((int) (target - bufferStart));
        } else {
            bufferStart = target;
            buffer.clear().limit(0);
        }
    }

    private void ensure(int n) {
        if (buffer.remaining() < n) {
            if (n > remaining()) {
                throw truncated(n);
            }
            fill(n);
        }
    }

    /** Refills the buffer from the current position with at least {@code n} bytes (n <= what is left). */
    private void fill(int n) {
        bufferStart = position();
        buffer.compact(); // index 0 now holds the byte at bufferStart
        long room = limit - (bufferStart + buffer.position());
        buffer.limit((int) Math.min(buffer.capacity(), buffer.position() + room));
        try {
            while (buffer.position() < n) {
                int k = channel.read(buffer, bufferStart + buffer.position());
                if (k < 0) {
                    throw new ModelFileException(path + ": truncated (the file ends at byte "
                            + (bufferStart + buffer.position()) + ")");
                }
            }
        } catch (IOException e) {
            throw new ModelFileException(path + ": cannot read: " + e.getMessage(), e);
        }
        buffer.flip();
    }

    private ModelFileException truncated(long n) {
        return new ModelFileException(path + ": truncated or corrupt: " + n + " bytes wanted at byte " + position()
                + " but only " + remaining() + " are left");
    }
}
