package io.modelpress.plugins.quantization;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** A small BERT WordPiece tokenizer: lower case, split on spaces and punctuation, greedy longest match with ##. */
final class WordPiece {

    private final Map<String, Integer> vocabulary;

    private WordPiece(Map<String, Integer> vocabulary) {
        this.vocabulary = vocabulary;
    }

    static WordPiece load(Path file) throws IOException {
        Map<String, Integer> vocabulary = new HashMap<>();
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            vocabulary.put(lines.get(i).strip(), i);
        }
        return new WordPiece(vocabulary);
    }

    /** [CLS] tokens [SEP], at most {@code maxLength} ids. */
    long[] encode(String text, int maxLength) {
        List<Integer> ids = new ArrayList<>();
        ids.add(vocabulary.get("[CLS]"));
        for (String word : words(text.toLowerCase(Locale.ROOT))) {
            ids.addAll(pieces(word));
        }
        if (ids.size() > maxLength - 1) {
            ids = new ArrayList<>(ids.subList(0, maxLength - 1));
        }
        ids.add(vocabulary.get("[SEP]"));
        return ids.stream().mapToLong(Integer::longValue).toArray();
    }

    private static List<String> words(String text) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (Character.isWhitespace(c)) {
                flush(word, words);
            } else if (Character.isLetterOrDigit(c)) {
                word.append(c);
            } else {
                flush(word, words);
                words.add(String.valueOf(c));
            }
        }
        flush(word, words);
        return words;
    }

    private static void flush(StringBuilder word, List<String> words) {
        if (word.length() > 0) {
            words.add(word.toString());
            word.setLength(0);
        }
    }

    private List<Integer> pieces(String word) {
        List<Integer> ids = new ArrayList<>();
        int start = 0;
        while (start < word.length()) {
            int end = word.length();
            Integer id = null;
            while (end > start) {
                String piece = (start > 0 ? "##" : "") + word.substring(start, end);
                id = vocabulary.get(piece);
                if (id != null) {
                    break;
                }
                end--;
            }
            if (id == null) {
                return List.of(vocabulary.get("[UNK]"));
            }
            ids.add(id);
            start = end;
        }
        return ids;
    }
}
