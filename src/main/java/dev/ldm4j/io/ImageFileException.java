package dev.ldm4j.io;

/** An image file that cannot be read or decoded as an image. The message names the file. */
public class ImageFileException extends RuntimeException {
    public ImageFileException(String message) {
        super(message);
    }

    public ImageFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
