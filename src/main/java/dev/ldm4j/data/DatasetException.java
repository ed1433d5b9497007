package dev.ldm4j.data;

/** A dataset that cannot be used at all (missing, unreadable or empty folder). The message names the folder. */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }
}
