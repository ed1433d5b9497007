package dev.ldm4j.cli;

import dev.ldm4j.io.BadRequestException;

/** A command-line value that cannot be used; the message says which and why. */
final class BadInputException extends BadRequestException {
    BadInputException(String message) {
        super(message);
    }

    /** The value of a {@code --device} option, or the reason it cannot be used here. */
    static dev.ldm4j.nn.ComputeDevice device(String value) {
        try {
            return dev.ldm4j.nn.ComputeDevice.parse(value);
        } catch (BadRequestException e) {
            throw new BadInputException("--device: " + e.getMessage());
        }
    }
}
