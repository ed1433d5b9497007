package dev.ldm4j.spark;

import java.io.Serializable;

/**
 * One request of the table on its way to an executor.
 *
 * @param row  its number, 1 for the first request of the table
 * @param id   the image's name ({@code images/<id>.png}); null when the row's id is unusable ({@code error} says why)
 * @param json the row as a JSON object (AUTOMATIC1111's field names)
 */
record BatchRow(long row, String id, String json, String error) implements Serializable {}
