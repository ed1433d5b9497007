package dev.ldm4j.cli;

/** A command-line value that cannot be used; the message says which and why. */
final class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message);
    }
}
