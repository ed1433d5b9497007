package dev.ldm4j.text;

import java.util.ArrayList;
import java.util.List;

/**
 * AUTOMATIC1111's attention syntax ({@code parse_prompt_attention}): a prompt becomes a list of text segments, each
 * with the product of the bracket factors around it.
 *
 * <ul>
 *   <li>{@code (text)} multiplies the weight of text by 1.1, {@code [text]} by 1/1.1;</li>
 *   <li>{@code (text:1.5)} multiplies it by 1.5 (spaces are allowed around the number);</li>
 *   <li>brackets nest and their factors multiply; a bracket left open applies to everything after it;</li>
 *   <li>{@code \(}, {@code \)}, {@code \[}, {@code \]} and {@code \\} are the literal characters; a backslash
 *       before anything else is dropped;</li>
 *   <li>a closing bracket with nothing open, and a colon that does not end a weight, are ordinary text;</li>
 *   <li>the word {@code BREAK} (upper case, a whole word) with the spaces around it is the chunk separator.</li>
 * </ul>
 *
 * Neighbouring segments of equal weight are merged. Weights are computed in double precision in the same order as
 * the reference, so {@code ((x))} weighs 1.2100000000000002. Parsing never fails: the one input the reference
 * rejects (a weight such as {@code (x:1.2.3)} that is not a number) is read here as if its colon were text.
 */
public final class PromptParser {
    private static final double ROUND_FACTOR = 1.1;
    private static final double SQUARE_FACTOR = 1 / 1.1;
    private static final String SPECIAL = "\\()[]:";
    private static final String ESCAPABLE = "()[]\\";

    private PromptParser() {}

    /** The weighted segments of {@code prompt}; never empty (an empty prompt gives one empty segment of weight 1). */
    public static List<PromptSegment> parse(String prompt) {
        return new Run(prompt == null ? "" : prompt).parse();
    }

    /** One parse: the growing segment list and the positions where open brackets started. */
    private static final class Run {
        private final String s;
        private final List<String> texts = new ArrayList<>();
        private final List<Double> weights = new ArrayList<>();
        private final List<Integer> openRound = new ArrayList<>();
        private final List<Integer> openSquare = new ArrayList<>();

        Run(String s) {
            this.s = s;
        }

        List<PromptSegment> parse() {
            int n = s.length();
            int i = 0;
            while (i < n) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> {
                        if (i + 1 < n && ESCAPABLE.indexOf(s.charAt(i + 1)) >= 0) {
                            add(String.valueOf(s.charAt(i + 1)), 1.0);
                            i += 2;
                        } else {
                            add("", 1.0);
                            i += 1;
                        }
                    }
                    case '(' -> {
                        openRound.add(texts.size());
                        i++;
                    }
                    case '[' -> {
                        openSquare.add(texts.size());
                        i++;
                    }
                    case ':' -> i = colon(i);
                    case ')' -> {
                        if (openRound.isEmpty()) {
                            addText(")");
                        } else {
                            multiplyFrom(pop(openRound), ROUND_FACTOR);
                        }
                        i++;
                    }
                    case ']' -> {
                        if (openSquare.isEmpty()) {
                            addText("]");
                        } else {
                            multiplyFrom(pop(openSquare), SQUARE_FACTOR);
                        }
                        i++;
                    }
                    default -> {
                        int j = i;
                        while (j < n && SPECIAL.indexOf(s.charAt(j)) < 0) {
                            j++;
                        }
                        addText(s.substring(i, j));
                        i = j;
                    }
                }
            }
            // unclosed brackets, round ones first, each in the order it was opened
            for (int start : openRound) {
                multiplyFrom(start, ROUND_FACTOR);
            }
            for (int start : openSquare) {
                multiplyFrom(start, SQUARE_FACTOR);
            }
            if (texts.isEmpty()) {
                add("", 1.0);
            }
            return merged();
        }

        /** At a colon: a weight that closes a round bracket, or text. Returns the index after what was consumed. */
        private int colon(int i) {
            int[] number = new int[2];
            int end = weightEnd(s, i, number);
            if (end < 0) {
                addText(":");
                return i + 1;
            }
            if (openRound.isEmpty()) {
                addText(s.substring(i, end));
                return end;
            }
            Double w = parseNumber(s.substring(number[0], number[1]));
            if (w == null) {
                addText(":");
                return i + 1;
            }
            multiplyFrom(pop(openRound), w);
            return end;
        }

        private void add(String text, double weight) {
            texts.add(text);
            weights.add(weight);
        }

        /** Text outside any escape, split at BREAK. */
        private void addText(String text) {
            int start = 0;
            int[] match = new int[2];
            while (findBreak(text, start, match)) {
                add(text.substring(start, match[0]), 1.0);
                add(PromptSegment.BREAK_TEXT, PromptSegment.BREAK_WEIGHT);
                start = match[1];
            }
            add(text.substring(start), 1.0);
        }

        private void multiplyFrom(int start, double factor) {
            for (int p = start; p < weights.size(); p++) {
                weights.set(p, weights.get(p) * factor);
            }
        }

        private List<PromptSegment> merged() {
            List<PromptSegment> out = new ArrayList<>();
            StringBuilder text = new StringBuilder(texts.get(0));
            double weight = weights.get(0);
            for (int p = 1; p < texts.size(); p++) {
                if (weights.get(p) == weight) {
                    text.append(texts.get(p));
                } else {
                    out.add(new PromptSegment(text.toString(), weight));
                    text.setLength(0);
                    text.append(texts.get(p));
                    weight = weights.get(p);
                }
            }
            out.add(new PromptSegment(text.toString(), weight));
            return List.copyOf(out);
        }

        private static int pop(List<Integer> stack) {
            return stack.remove(stack.size() - 1);
        }
    }

    /**
     * Matches {@code :\s*([+-]?[.\d]+)\s*\)} at {@code i} (Python's Unicode {@code \s} and {@code \d}). Returns the
     * index after the {@code )} and puts the number's bounds into {@code number}, or -1.
     */
    static int weightEnd(String s, int i, int[] number) {
        int n = s.length();
        int k = skipWhitespace(s, i + 1);
        int numberStart = k;
        if (k < n && (s.charAt(k) == '+' || s.charAt(k) == '-')) {
            k++;
        }
        int digitsStart = k;
        while (k < n) {
            int cp = s.codePointAt(k);
            if (cp != '.' && !Character.isDigit(cp)) {
                break;
            }
            k += Character.charCount(cp);
        }
        if (k == digitsStart) {
            return -1;
        }
        number[0] = numberStart;
        number[1] = k;
        k = skipWhitespace(s, k);
        return k < n && s.charAt(k) == ')' ? k + 1 : -1;
    }

    /** Python's {@code float()} of a sign and a run of digits and dots; null where Python raises. */
    static Double parseNumber(String text) {
        StringBuilder ascii = new StringBuilder(text.length());
        int dots = 0;
        int digits = 0;
        for (int k = 0; k < text.length(); ) {
            int cp = text.codePointAt(k);
            k += Character.charCount(cp);
            if (Character.isDigit(cp)) {
                ascii.append((char) ('0' + Character.digit(cp, 10)));
                digits++;
            } else {
                dots += cp == '.' ? 1 : 0;
                ascii.append((char) cp);
            }
        }
        if (digits == 0 || dots > 1) {
            return null;
        }
        try {
            return Double.parseDouble(ascii.toString());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /**
     * The next match of {@code \s*\bBREAK\b\s*} in {@code text} at or after {@code from}, as Python's
     * {@code re.split} finds it: bounds into {@code match}, false when there is none.
     */
    static boolean findBreak(String text, int from, int[] match) {
        String word = PromptSegment.BREAK_TEXT;
        for (int k = text.indexOf(word, from); k >= 0; k = text.indexOf(word, k + 1)) {
            int after = k + word.length();
            boolean boundaryBefore = k == 0 || !isWordChar(text.codePointBefore(k));
            boolean boundaryAfter = after == text.length() || !isWordChar(text.codePointAt(after));
            if (boundaryBefore && boundaryAfter) {
                int start = k;
                while (start > from && TextCleaner.isWhitespace(text.codePointBefore(start))) {
                    start -= Character.charCount(text.codePointBefore(start));
                }
                match[0] = start;
                match[1] = skipWhitespace(text, after);
                return true;
            }
        }
        return false;
    }

    private static int skipWhitespace(String s, int k) {
        while (k < s.length() && TextCleaner.isWhitespace(s.codePointAt(k))) {
            k += Character.charCount(s.codePointAt(k));
        }
        return k;
    }

    /** Python's Unicode word character: {@code str.isalnum()} or underscore. */
    private static boolean isWordChar(int cp) {
        if (cp == '_' || Character.isLetter(cp)) {
            return true;
        }
        int type = Character.getType(cp);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                || type == Character.OTHER_NUMBER;
    }
}
