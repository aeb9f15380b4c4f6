package io.modelpress.engine.data.raw;

import static java.util.Objects.requireNonNull;

import io.modelpress.engine.EngineException;
import io.modelpress.model.ModelSummary;
import io.modelpress.model.OnnxModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Builds the .npz data a model needs (one array per input, named as the input, examples along axis 0,
 * {@code labels} when labelled; see {@link io.modelpress.engine.data.NpzData}) from raw files: a
 * folder of images, text lines and the model's tokenizer.json, or WAV files.
 *
 * <p>Examples are written in one fixed pseudo-random order, the same on every run, so that any
 * part of the file taken for tuning or judging holds every class and every source folder rather
 * than the first few in name order.
 */
public final class RawData {

    private static final Set<String> IMAGE_EXTENSIONS = Set.of("png", "jpg", "jpeg", "bmp", "gif");
    private static final Set<String> AUDIO_EXTENSIONS = Set.of("wav", "wave");
    private static final Set<String> TEXT_EXTENSIONS = Set.of("txt", "text");
    private static final long ORDER_SEED = 20261207L;

    private RawData() {
    }

    /**
     * What every kind of source shares.
     *
     * @param source a file, or a folder searched recursively for files of the kind
     * @param labels where classes come from
     * @param input the model input to fill; empty: the only one (or the one the kind recognises)
     * @param limit at most this many examples, spread over the sources; 0: all
     * @param out the .npz to write
     */
    public record Request(Path source, LabelSource labels, Optional<String> input, int limit, Path out) {
        public Request {
            requireNonNull(source, "source is null");
            requireNonNull(labels, "labels is null");
            requireNonNull(input, "input is null");
            requireNonNull(out, "out is null");
            if (limit < 0) {
                throw new EngineException("the example limit must be 0 (all) or more, not " + limit);
            }
        }
    }

    /** Images into a float32 input of rank 4 (NCHW/NHWC), 3 (grayscale HW) or 2 (flat). */
    public static RawDataResult images(OnnxModel model, Request request, ImageOptions options) {
        ModelSummary.Value input = oneInput(model, request.input(), "images");
        ImageConverter converter = ImageConverter.forInput(input, options);
        List<Path> files = files(request.source(), IMAGE_EXTENSIONS, "image");
        Labels labels = Labels.of(request.labels(), root(request.source()), files);
        List<Path> chosen = chosen(files, request.limit());
        ExampleArrays arrays = new ExampleArrays();
        arrays.declare(input.name(), converter.exampleShape(), "float");
        for (Path file : chosen) {
            arrays.add(input.name(), converter.convert(file));
            label(arrays, labels, file);
        }
        List<String> notes = List.of(chosen.size() + " of " + files.size() + " images as '" + input.name() + "' "
                + converter.describe());
        return result(request, arrays, chosen.size(), labels, notes);
    }

    /**
     * Each non-blank line of the text files is one example, tokenized with the model's tokenizer.json
     * into the inputs it takes by name: {@code input_ids}, {@code attention_mask}, {@code token_type_ids}.
     *
     * @param length tokens per example; empty: the inputs' fixed length, else 128
     */
    public static RawDataResult text(OnnxModel model, Request request, Path tokenizer, OptionalInt length) {
        List<ModelSummary.Value> inputs = model.summary().inputs();
        List<TokenInput> targets = inputs.stream().map(TokenInput::of).toList();
        int tokens = length.orElseGet(() -> fixedLength(inputs).orElse(128));
        for (ModelSummary.Value input : inputs) {
            List<String> dims = input.shape();
            if (dims.size() != 2) {
                throw new EngineException("input '" + input.name() + "' " + dims
                        + " is not [batch, tokens]; text fills inputs of rank 2");
            }
            if (fixed(dims.get(1)) && Integer.parseInt(dims.get(1)) != tokens) {
                throw new EngineException("input '" + input.name() + "' takes " + dims.get(1) + " tokens, not " + tokens);
            }
        }
        List<Path> files = files(request.source(), TEXT_EXTENSIONS, "text");
        Labels labels = Labels.of(request.labels(), root(request.source()), files);
        List<Line> lines = new ArrayList<>();
        for (Path file : files) {
            readLines(file).forEach(text -> lines.add(new Line(file, text)));
        }
        if (lines.isEmpty()) {
            throw new EngineException(request.source() + ": no non-blank lines of text");
        }
        List<Line> chosen = chosen(lines, request.limit());
        ExampleArrays arrays = new ExampleArrays();
        targets.forEach(target -> arrays.declare(target.input().name(), new long[] {tokens}, target.input().type()));
        int truncated = 0;
        try (TextTokens tokenizerOf = TextTokens.open(tokenizer, tokens)) {
            for (Line line : chosen) {
                TextTokens.Tokens encoded = tokenizerOf.encode(line.text());
                truncated += encoded.truncated() ? 1 : 0;
                for (TokenInput target : targets) {
                    arrays.add(target.input().name(), target.values(encoded));
                }
                label(arrays, labels, line.file());
            }
        }
        List<String> notes = new ArrayList<>();
        notes.add(chosen.size() + " of " + lines.size() + " lines from " + files.size() + " file" + (files.size() == 1 ? "" : "s")
                + ", " + tokens + " tokens each with " + tokenizer.getFileName() + " into "
                + targets.stream().map(target -> target.input().name()).toList());
        if (truncated > 0) {
            notes.add(truncated + " line" + (truncated == 1 ? " was" : "s were") + " longer than " + tokens
                    + " tokens and cut (--max-length raises it)");
        }
        return result(request, arrays, chosen.size(), labels, notes);
    }

    /**
     * WAV files, mono and resampled, cut into windows, into one float32 input ({@code [batch, samples]}
     * or {@code [batch, 1, samples]}). The model's other inputs are filled where their meaning is plain:
     * a scalar integer input takes the sample rate, a float input with fixed dims besides batch a zero
     * (initial) state per example.
     */
    public static RawDataResult audio(OnnxModel model, Request request, AudioOptions options) {
        List<ModelSummary.Value> inputs = model.summary().inputs();
        ModelSummary.Value audio = request.input().map(name -> named(inputs, name)).orElseGet(() -> inputs.stream()
                .filter(input -> input.type().equals("float") && input.shape().size() >= 2).findFirst()
                .orElseThrow(() -> new EngineException("the model has no float32 input of rank 2 or more for audio; inputs: "
                        + describe(inputs))));
        List<String> dims = audio.shape();
        String last = dims.isEmpty() ? "" : dims.get(dims.size() - 1);
        int window = options.window().orElseGet(() -> {
            if (!fixed(last)) {
                throw new EngineException("input '" + audio.name() + "' " + dims + " has a variable length: give --window SAMPLES");
            }
            return Integer.parseInt(last);
        });
        if (fixed(last) && Integer.parseInt(last) != window) {
            throw new EngineException("input '" + audio.name() + "' takes " + last + " samples, not a window of " + window);
        }
        for (int d = 1; d < dims.size() - 1; d++) {
            if (!dims.get(d).equals("1")) {
                throw new EngineException("input '" + audio.name() + "' " + dims + " is not [batch, samples] or [batch, 1, samples]");
            }
        }
        long[] exampleShape = new long[dims.size() - 1];
        Arrays.fill(exampleShape, 1);
        exampleShape[exampleShape.length - 1] = window;
        ExampleArrays arrays = new ExampleArrays();
        arrays.declare(audio.name(), exampleShape, "float");
        List<String> notes = new ArrayList<>();
        List<ModelSummary.Value> states = new ArrayList<>();
        for (ModelSummary.Value other : inputs) {
            if (!other.name().equals(audio.name())) {
                fillOther(other, options, arrays, states, notes);
            }
        }
        List<Path> files = files(request.source(), AUDIO_EXTENSIONS, "WAV");
        Labels labels = Labels.of(request.labels(), root(request.source()), files);
        int hop = options.hop().orElse(window);
        List<Window> windows = new ArrayList<>();
        for (Path file : files) {
            WavFile wav = WavFile.read(file);
            if (wav.samples().length == 0) {
                throw new EngineException(file + ": a WAV file without samples");
            }
            float[] samples = WavFile.resample(wav.samples(), wav.sampleRate(), options.sampleRate());
            cut(samples, window, hop).forEach(piece -> windows.add(new Window(file, piece)));
        }
        List<Window> chosen = chosen(windows, request.limit());
        for (Window piece : chosen) {
            arrays.add(audio.name(), piece.samples());
            for (ModelSummary.Value state : states) {
                arrays.add(state.name(), new float[(int) elements(stateShape(state))]);
            }
            label(arrays, labels, piece.file());
        }
        notes.add(0, chosen.size() + " of " + windows.size() + " windows of " + window + " samples (hop " + hop + ") at "
                + options.sampleRate() + " Hz, mono, from " + files.size() + " WAV file" + (files.size() == 1 ? "" : "s")
                + " as '" + audio.name() + "'");
        return result(request, arrays, chosen.size(), labels, notes);
    }

    private record Line(Path file, String text) {
    }

    private record Window(Path file, float[] samples) {
    }

    /** A token input and which of the tokenizer's arrays it takes, known by its name. */
    private record TokenInput(ModelSummary.Value input, String kind) {
        static TokenInput of(ModelSummary.Value input) {
            String name = input.name().toLowerCase(Locale.ROOT);
            String kind = name.contains("type") || name.contains("segment") ? "types"
                    : name.contains("mask") ? "mask"
                    : name.contains("ids") || name.equals("input") || name.contains("token") ? "ids" : null;
            if (kind == null) {
                throw new EngineException("input '" + input.name() + "' is not one text fills (input_ids, attention_mask,"
                        + " token_type_ids)");
            }
            if (!input.type().equals("int64") && !input.type().equals("int32")) {
                throw new EngineException("input '" + input.name() + "' takes " + input.type() + "; token inputs are int64 or int32");
            }
            return new TokenInput(input, kind);
        }

        long[] values(TextTokens.Tokens tokens) {
            return switch (kind) {
                case "types" -> tokens.typeIds();
                case "mask" -> tokens.attentionMask();
                default -> tokens.ids();
            };
        }
    }

    private static void fillOther(ModelSummary.Value other, AudioOptions options, ExampleArrays arrays,
                                  List<ModelSummary.Value> states, List<String> notes) {
        boolean integer = other.type().equals("int64") || other.type().equals("int32");
        if (integer && other.shape().isEmpty()) {
            arrays.constant(other.name(), other.type(), options.sampleRate());
            notes.add("'" + other.name() + "' (a scalar) is the sample rate " + options.sampleRate());
        } else if (other.type().equals("float") && !other.shape().isEmpty()) {
            arrays.declare(other.name(), stateShape(other), "float");
            states.add(other);
            notes.add("'" + other.name() + "' is a zero initial state " + Arrays.toString(stateShape(other))
                    + " per example");
        } else {
            throw new EngineException("input '" + other.name() + "' " + other.type() + other.shape()
                    + " is neither the audio, a sample rate nor a state; audio data cannot fill it");
        }
    }

    /** A state's whole shape for one example: symbolic dims (its batch) become 1. */
    private static long[] stateShape(ModelSummary.Value state) {
        return state.shape().stream().mapToLong(dim -> fixed(dim) ? Long.parseLong(dim) : 1).toArray();
    }

    private static long elements(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            count *= dim;
        }
        return count;
    }

    /** Windows every {@code hop} samples; a short file padded to one window, a tail under half a window dropped. */
    static List<float[]> cut(float[] samples, int window, int hop) {
        List<float[]> pieces = new ArrayList<>();
        for (int start = 0; start < samples.length; start += hop) {
            int available = samples.length - start;
            if (start > 0 && available * 2 < window) {
                break;
            }
            float[] piece = new float[window];
            System.arraycopy(samples, start, piece, 0, Math.min(window, available));
            pieces.add(piece);
            if (start + window >= samples.length) {
                break; // this window reached the end
            }
        }
        return pieces;
    }

    private static ModelSummary.Value oneInput(OnnxModel model, Optional<String> name, String what) {
        List<ModelSummary.Value> inputs = model.summary().inputs();
        if (name.isPresent()) {
            return named(inputs, name.get());
        }
        if (inputs.size() != 1) {
            throw new EngineException("the model has " + inputs.size() + " inputs (" + describe(inputs) + "); " + what
                    + " fill one: name it with --input");
        }
        return inputs.get(0);
    }

    private static ModelSummary.Value named(List<ModelSummary.Value> inputs, String name) {
        return inputs.stream().filter(input -> input.name().equals(name)).findFirst().orElseThrow(() ->
                new EngineException("the model has no input '" + name + "'; its inputs: " + describe(inputs)));
    }

    private static String describe(List<ModelSummary.Value> inputs) {
        return String.join(", ", inputs.stream().map(input -> input.name() + " " + input.type() + input.shape()).toList());
    }

    private static Optional<Integer> fixedLength(List<ModelSummary.Value> inputs) {
        return inputs.stream().map(ModelSummary.Value::shape).filter(dims -> dims.size() == 2 && fixed(dims.get(1)))
                .map(dims -> Integer.parseInt(dims.get(1))).findFirst();
    }

    private static boolean fixed(String dim) {
        return !dim.isEmpty() && dim.chars().allMatch(Character::isDigit);
    }

    private static Path root(Path source) {
        return Files.isDirectory(source) ? source : source.toAbsolutePath().getParent();
    }

    /** The source file itself, or the folder's files of the kind in name order; hidden files are skipped. */
    static List<Path> files(Path source, Set<String> extensions, String kind) {
        if (Files.isRegularFile(source)) {
            return List.of(source);
        }
        if (!Files.isDirectory(source)) {
            throw new EngineException("data source not found: " + source);
        }
        try (Stream<Path> walk = Files.walk(source)) {
            List<Path> files = walk.filter(Files::isRegularFile)
                    .filter(file -> !file.getFileName().toString().startsWith("."))
                    .filter(file -> extensions.contains(extension(file)))
                    .sorted().toList();
            if (files.isEmpty()) {
                throw new EngineException(source + ": no " + kind + " files (" + String.join(", ", extensions.stream().sorted().toList())
                        + ") in it or its subfolders");
            }
            return files;
        } catch (IOException | UncheckedIOException e) {
            throw new EngineException(source + ": cannot list (" + e.getMessage() + ")");
        }
    }

    private static String extension(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.readAllLines(file, StandardCharsets.UTF_8).stream().map(String::strip)
                    .filter(line -> !line.isEmpty()).toList();
        } catch (MalformedInputException e) {
            throw new EngineException(file + ": not UTF-8 text");
        } catch (NoSuchFileException e) {
            throw new EngineException("text file not found: " + file);
        } catch (IOException e) {
            throw new EngineException(file + ": cannot read (" + e.getMessage() + ")");
        }
    }

    /** All items in a fixed shuffled order, or {@code limit} of them spread evenly over the name order first. */
    private static <T> List<T> chosen(List<T> items, int limit) {
        List<T> picked = new ArrayList<>();
        if (limit == 0 || limit >= items.size()) {
            picked.addAll(items);
        } else {
            for (int i = 0; i < limit; i++) {
                picked.add(items.get((int) ((long) i * items.size() / limit)));
            }
        }
        Collections.shuffle(picked, new Random(ORDER_SEED));
        return picked;
    }

    private static void label(ExampleArrays arrays, Labels labels, Path file) {
        if (labels.labelled()) {
            arrays.label(labels.of(file));
        }
    }

    private static RawDataResult result(Request request, ExampleArrays arrays, int examples, Labels labels, List<String> notes) {
        if (examples == 0) {
            throw new EngineException(request.source() + ": no examples came out of it");
        }
        return new RawDataResult(request.out(), examples, arrays.write(request.out(), examples), labels.classes(), notes);
    }
}
