package dev.ldm4j.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The entries of a ZIP archive as byte ranges of the file, read from its central directory (ZIP64 included,
 * as checkpoints over 4 GB need). Only uncompressed (STORED) entries are accepted, so each entry's bytes can be
 * read or memory-mapped in place; every name is checked to stay inside the archive (no {@code ..}, absolute
 * path or backslash), although nothing is ever extracted.
 */
final class ZipIndex {
    /** One stored entry: its data lie at {@code [dataStart, dataStart + size)} of the file. */
    record Entry(String name, long dataStart, long size) {}

    private static final int EOCD = 0x06054b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EOCD = 0x06064b50;
    private static final int CENTRAL = 0x02014b50;
    private static final int LOCAL = 0x04034b50;
    private static final long U32 = 0xffffffffL;
    /** The end record is 22 bytes plus a comment of at most 65535. */
    private static final int MAX_TAIL = 22 + 0xffff;

    private ZipIndex() {}

    /** The archive's entries by name, in central-directory order. */
    static Map<String, Entry> read(Path path, FileChannel ch, long size) {
        long eocd = findEndRecord(path, ch, size);
        ByteReader end = new ByteReader(path, ch, eocd + 4, size);
        int disk = end.u16();
        int cdDisk = end.u16();
        end.u16();
        long count = end.u16();
        long cdSize = end.u32();
        long cdOffset = end.u32();
        if (disk != 0 || cdDisk != 0) {
            throw bad(path, "a multi-part ZIP archive");
        }
        if (count == 0xffff || cdSize == U32 || cdOffset == U32) {
            long[] z = zip64End(path, ch, eocd);
            count = z[0];
            cdSize = z[1];
            cdOffset = z[2];
        }
        if (cdOffset < 0 || cdSize < 0 || cdOffset > size || cdSize > size - cdOffset) {
            throw bad(path, "its central directory [" + cdOffset + ", +" + cdSize + ") lies outside the file of "
                    + size + " bytes (truncated?)");
        }
        // each central record takes at least 46 bytes: a count beyond that is a lie, not an allocation
        if (count > cdSize / 46) {
            throw bad(path, count + " entries cannot fit a central directory of " + cdSize + " bytes");
        }
        ByteReader cd = new ByteReader(path, ch, cdOffset, cdOffset + cdSize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        for (long i = 0; i < count; i++) {
            Entry e = centralEntry(path, ch, cd, size);
            if (entries.put(e.name(), e) != null) {
                throw bad(path, "the entry '" + e.name() + "' appears twice");
            }
        }
        return entries;
    }

    private static long findEndRecord(Path path, FileChannel ch, long size) {
        long from = Math.max(0, size - MAX_TAIL);
        ByteReader tail = new ByteReader(path, ch, from, size);
        byte[] b = tail.bytes(size - from);
        for (int i = b.length - 22; i >= 0; i--) {
            if (b[i] == 'P' && b[i + 1] == 'K' && b[i + 2] == 5 && b[i + 3] == 6) {
                return from + i;
            }
        }
        throw bad(path, "no end-of-central-directory record (truncated or not a ZIP archive)");
    }

    /** {count, size, offset} of the central directory from the ZIP64 end record. */
    private static long[] zip64End(Path path, FileChannel ch, long eocd) {
        if (eocd < 20) {
            throw bad(path, "a ZIP64 archive without its ZIP64 locator");
        }
        ByteReader loc = new ByteReader(path, ch, eocd - 20, eocd);
        if (loc.s32() != ZIP64_LOCATOR) {
            throw bad(path, "a ZIP64 archive without its ZIP64 locator");
        }
        loc.u32();
        long recordAt = loc.s64();
        if (recordAt < 0 || recordAt > eocd - 20 - 56) {
            throw bad(path, "the ZIP64 end record offset " + recordAt + " is out of range");
        }
        ByteReader r = new ByteReader(path, ch, recordAt, eocd - 20);
        if (r.s32() != ZIP64_EOCD) {
            throw bad(path, "no ZIP64 end record where its locator points");
        }
        r.skip(8 + 2 + 2 + 4 + 4 + 8); // record size, versions, disk numbers, entries on this disk
        long count = r.s64();
        long cdSize = r.s64();
        long cdOffset = r.s64();
        if (count < 0 || cdSize < 0 || cdOffset < 0) {
            throw bad(path, "negative sizes in the ZIP64 end record");
        }
        return new long[] {count, cdSize, cdOffset};
    }

    private static Entry centralEntry(Path path, FileChannel ch, ByteReader cd, long fileSize) {
        if (cd.s32() != CENTRAL) {
            throw bad(path, "a corrupt central directory (bad record signature at byte " + (cd.position() - 4) + ")");
        }
        cd.skip(4); // versions
        int flags = cd.u16();
        int method = cd.u16();
        cd.skip(8); // time, date, crc
        long compressed = cd.u32();
        long size = cd.u32();
        int nameLen = cd.u16();
        int extraLen = cd.u16();
        int commentLen = cd.u16();
        cd.skip(8); // disk, attributes
        long local = cd.u32();
        String name = new String(cd.bytes(nameLen), StandardCharsets.UTF_8);
        byte[] extra = cd.bytes(extraLen);
        cd.skip(commentLen);
        checkName(path, name);
        if (size == U32 || compressed == U32 || local == U32) {
            long[] z = zip64Extra(path, name, extra, size == U32, compressed == U32, local == U32);
            size = size == U32 ? z[0] : size;
            compressed = compressed == U32 ? z[1] : compressed;
            local = local == U32 ? z[2] : local;
        }
        if ((flags & 1) != 0) {
            throw bad(path, "the entry '" + name + "' is encrypted");
        }
        if (method != 0 || compressed != size) {
            throw bad(path, "the entry '" + name + "' is compressed (method " + method + "); PyTorch stores its"
                    + " entries uncompressed, so this file was repacked: unzip it and zip it again with -0");
        }
        long dataStart = dataStart(path, ch, name, local, fileSize);
        if (size < 0 || size > fileSize - dataStart) {
            throw bad(path, "the entry '" + name + "' of " + size + " bytes at byte " + dataStart
                    + " runs past the end of the file of " + fileSize + " bytes (truncated?)");
        }
        return new Entry(name, dataStart, size);
    }

    /** Where an entry's data begin: after its local header, whose name and extra field lengths may differ. */
    private static long dataStart(Path path, FileChannel ch, String name, long local, long fileSize) {
        if (local < 0 || local > fileSize - 30) {
            throw bad(path, "the entry '" + name + "' has its header at byte " + local + ", outside the file of "
                    + fileSize + " bytes (truncated?)");
        }
        ByteReader h = new ByteReader(path, ch, local, local + 30);
        if (h.s32() != LOCAL) {
            throw bad(path, "no local header for the entry '" + name + "' at byte " + local);
        }
        h.skip(22);
        int nameLen = h.u16();
        int extraLen = h.u16();
        return local + 30 + nameLen + extraLen;
    }

    /** The ZIP64 extended information field (id 1): the 8-byte values present are those the record lacks. */
    private static long[] zip64Extra(Path path, String name, byte[] extra, boolean wantSize, boolean wantCompressed,
                                     boolean wantLocal) {
        ByteBuffer b = ByteBuffer.wrap(extra).order(ByteOrder.LITTLE_ENDIAN);
        while (b.remaining() >= 4) {
            int id = b.getShort() & 0xffff;
            int len = b.getShort() & 0xffff;
            if (len > b.remaining()) {
                break;
            }
            if (id != 1) {
                b.position(b.position() + len);
                continue;
            }
            ByteBuffer f = b.slice().limit(len).order(ByteOrder.LITTLE_ENDIAN);
            long[] out = {-1, -1, -1};
            boolean[] want = {wantSize, wantCompressed, wantLocal};
            for (int i = 0; i < 3; i++) {
                if (want[i]) {
                    if (f.remaining() < 8) {
                        throw bad(path, "the entry '" + name + "' has a short ZIP64 field");
                    }
                    out[i] = f.getLong();
                }
            }
            return out;
        }
        throw bad(path, "the entry '" + name + "' lacks its ZIP64 field");
    }

    /** Names that would leave the archive if extracted are refused outright: such a file was made to attack. */
    private static void checkName(Path path, String name) {
        boolean bad = name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.indexOf('\0') >= 0
                || (name.length() > 1 && name.charAt(1) == ':');
        for (String part : name.split("/", -1)) {
            bad |= part.equals("..");
        }
        if (bad) {
            throw bad(path, "refused: the archive has an entry named '" + name.replaceAll("\\p{Cntrl}", "?")
                    + "', which points outside the archive (nothing was extracted)");
        }
    }

    private static ModelFileException bad(Path path, String what) {
        return new ModelFileException(path + ": not a readable PyTorch ZIP checkpoint: " + what);
    }
}
