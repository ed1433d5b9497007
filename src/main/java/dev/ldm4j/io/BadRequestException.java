package dev.ldm4j.io;

/**
 * What the user asked for cannot be done as asked: a value out of range, an unknown name, settings that do
 * not go together, a config that does not hold together. The message names the field, flag or file and says
 * what is valid. Front doors show it as it is (the CLI: one line, exit 2; an HTTP API: 4xx); every exception
 * that is neither this nor a bad-file type ({@link ModelFileException}, {@link ImageFileException},
 * {@link OutputFileException}, ...) is a bug. Deliberately not an {@link IllegalArgumentException}: a
 * failed argument check inside the code must not pass for the user's mistake.
 */
public class BadRequestException extends RuntimeException {
    public BadRequestException(String message) {
        super(message);
    }

    public BadRequestException(String message, Throwable cause) {
        super(message, cause);
    }
}
