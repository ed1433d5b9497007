package dev.ldm4j.io;

/** A model or tensor file that cannot be read as what it claims to be. The message names the file. */
public class ModelFileException extends RuntimeException {
    public ModelFileException(String message) {
        super(message);
    }

    public ModelFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
