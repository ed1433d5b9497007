package dev.ldm4j.model;

/** A model file or config of an architecture ldm4j does not run (yet). */
public class UnsupportedModelException extends RuntimeException {
    public UnsupportedModelException(String message) {
        super(message);
    }
}
