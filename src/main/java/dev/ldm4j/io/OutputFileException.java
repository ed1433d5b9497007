package dev.ldm4j.io;

/** A file (tensors, image) that cannot be written. The message names the file and, where known, why. */
public class OutputFileException extends RuntimeException {
    public OutputFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
