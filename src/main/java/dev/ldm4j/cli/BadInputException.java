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

    /** Checked before long work starts: the folder an output file goes into must exist. */
    static void requireParentDirectory(java.nio.file.Path file) {
        java.nio.file.Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !java.nio.file.Files.isDirectory(dir)) {
            throw new BadInputException("cannot write " + file + ": directory " + dir + " does not exist");
        }
    }
}
