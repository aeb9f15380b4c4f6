package io.modelpress.cli;

import io.modelpress.engine.EngineException;
import io.modelpress.engine.data.raw.AudioOptions;
import io.modelpress.engine.data.raw.ImageOptions;
import io.modelpress.engine.data.raw.LabelSource;
import io.modelpress.engine.data.raw.RawData;
import io.modelpress.engine.data.raw.RawDataResult;
import io.modelpress.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "data", mixinStandardHelpOptions = true, versionProvider = ModelpressCli.Version.class,
        description = "Builds the .npz data a model takes (for --calibration and --evaluation) from images, text lines"
                + " and the model's tokenizer.json, or WAV files; labels from class folders or a CSV.")
final class DataCommand implements Callable<Integer> {

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "the .onnx model the data is for (its inputs' names, types and shapes)")
    Path model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    static final class Source {
        @Option(names = "--images", paramLabel = "DIR", description = "a folder of PNG/JPEG/BMP/GIF files (subfolders too), or one file")
        Path images;

        @Option(names = "--text", paramLabel = "FILE|DIR", description = "a text file (or a folder of .txt files): each non-blank line is one example")
        Path text;

        @Option(names = "--audio", paramLabel = "DIR", description = "a folder of WAV files (PCM or float), or one file")
        Path audio;
    }

    @Option(names = "--out", required = true, paramLabel = "FILE.npz", description = "the data file to write")
    Path out;

    @Option(names = "--labels", paramLabel = "folders|FILE.csv",
            description = "classes from the folder each file lies in (DIR/CLASS/file), or a CSV of file,label lines")
    String labels;

    @Option(names = "--input", paramLabel = "NAME", description = "the model input to fill (default: the only one, or the one the data fits)")
    String input;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "at most N examples, spread over the files (default: all)")
    int limit;

    @Option(names = "--preset", paramLabel = "NAME",
            description = "images: imagenet (224x224 RGB, ImageNet mean/std), mnist (28x28 grayscale, 0..1), "
                    + "paddleocr-rec (3x48xW BGR text lines, aspect kept, (x/255-0.5)/0.5); other options override it")
    String preset;

    @Option(names = "--width", paramLabel = "PX", description = "images: width (default: the model's, or the preset's)")
    Integer width;

    @Option(names = "--height", paramLabel = "PX", description = "images: height (default: the model's, or the preset's)")
    Integer height;

    @Option(names = "--channels", paramLabel = "1|3", description = "images: 1 for grayscale, 3 for colour (default: the model's)")
    Integer channels;

    @Option(names = "--layout", paramLabel = "NCHW|NHWC", description = "images: where the channel axis is (default: from the model's shape)")
    String layout;

    @Option(names = "--order", paramLabel = "RGB|BGR", description = "images: channel order (default: RGB, or the preset's)")
    String order;

    @Option(names = "--fit", paramLabel = "stretch|pad",
            description = "images: stretch to width x height, or keep the aspect at the height and pad the width with 0")
    String fit;

    @Option(names = "--scale", paramLabel = "S", description = "images: multiplies each 0..255 pixel first (default: 1/255)")
    Double scale;

    @Option(names = "--mean", paramLabel = "M", split = ",", description = "images: subtracted per channel after scaling")
    double[] mean;

    @Option(names = "--std", paramLabel = "S", split = ",", description = "images: divides per channel after the mean")
    double[] std;

    @Option(names = "--tokenizer", paramLabel = "tokenizer.json", description = "text: the model's Hugging Face tokenizer.json")
    Path tokenizer;

    @Option(names = "--max-length", paramLabel = "TOKENS", description = "text: tokens per example, padded or cut (default: the model's, else 128)")
    Integer maxLength;

    @Option(names = "--sample-rate", paramLabel = "HZ", defaultValue = "16000", description = "audio: the model's sample rate (default: ${DEFAULT-VALUE})")
    int sampleRate;

    @Option(names = "--window", paramLabel = "SAMPLES", description = "audio: samples per example (default: the model's fixed length)")
    Integer window;

    @Option(names = "--hop", paramLabel = "SAMPLES", description = "audio: samples between window starts (default: the window)")
    Integer hop;

    @Override
    public Integer call() {
        PrintWriter stdout = spec.commandLine().getOut();
        if (Files.isDirectory(out)) {
            throw new EngineException("--out " + out + " is a folder; name the .npz file to write");
        }
        OnnxModel loaded = OnnxModel.load(model, Environment.loadLimits());
        RawData.Request request = new RawData.Request(sourcePath(), labelSource(), Optional.ofNullable(input), limit, out);
        RawDataResult result;
        if (source.images != null) {
            result = RawData.images(loaded, request, imageOptions());
        } else if (source.text != null) {
            if (tokenizer == null) {
                throw new EngineException("--text needs --tokenizer, the model's tokenizer.json");
            }
            result = RawData.text(loaded, request, tokenizer, maxLength == null ? OptionalInt.empty() : OptionalInt.of(maxLength));
        } else {
            result = RawData.audio(loaded, request, new AudioOptions(sampleRate, optional(window), optional(hop)));
        }
        print(stdout, result);
        return ModelpressCli.OK;
    }

    private Path sourcePath() {
        return source.images != null ? source.images : source.text != null ? source.text : source.audio;
    }

    private LabelSource labelSource() {
        if (labels == null) {
            return LabelSource.none();
        }
        return labels.equals("folders") ? LabelSource.folders() : LabelSource.csv(Path.of(labels));
    }

    private ImageOptions imageOptions() {
        ImageOptions options = preset == null ? ImageOptions.defaults() : ImageOptions.preset(preset);
        if (width != null) {
            options = options.withWidth(width);
        }
        if (height != null) {
            options = options.withHeight(height);
        }
        if (channels != null) {
            options = options.withChannels(channels);
        }
        if (layout != null) {
            options = options.withLayout(choice(ImageOptions.Layout.class, "--layout", layout));
        }
        if (order != null) {
            options = options.withOrder(choice(ImageOptions.ChannelOrder.class, "--order", order));
        }
        if (fit != null) {
            options = options.withFit(choice(ImageOptions.Fit.class, "--fit", fit));
        }
        if (scale != null || mean != null || std != null) {
            options = options.withNormalization(scale == null ? options.scale() : scale, mean == null ? options.mean() : mean,
                    std == null ? options.std() : std);
        }
        return options;
    }

    private static <E extends Enum<E>> E choice(Class<E> type, String option, String value) {
        try {
            return Enum.valueOf(type, value.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new EngineException(option + " takes " + Arrays.stream(type.getEnumConstants()).map(c -> c.name()
                    .toLowerCase(Locale.ROOT)).collect(Collectors.joining(" or ")) + ", not '" + value + "'");
        }
    }

    private static OptionalInt optional(Integer value) {
        return value == null ? OptionalInt.empty() : OptionalInt.of(value);
    }

    private void print(PrintWriter stdout, RawDataResult result) {
        result.notes().forEach(stdout::println);
        for (Map.Entry<String, long[]> array : result.arrays().entrySet().stream().sorted(Map.Entry.comparingByKey()).toList()) {
            stdout.printf("  %-24s %s%n", array.getKey(), Arrays.toString(array.getValue()));
        }
        if (!result.classes().isEmpty()) {
            stdout.printf("classes: %s%n", result.classes().size() <= 20 ? String.join(", ", indexed(result))
                    : result.classes().size() + " (0 = " + result.classes().get(0) + " ... )");
        }
        stdout.printf("wrote %s (%d examples)%n", result.file(), result.examples());
        stdout.printf("use it: modelpress compress %s --profile ID --out DIR %s %s%n", model,
                result.classes().isEmpty() ? "--calibration" : "--evaluation", result.file());
    }

    private static List<String> indexed(RawDataResult result) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < result.classes().size(); i++) {
            String name = result.classes().get(i);
            names.add(name.equals(Integer.toString(i)) ? name : i + " " + name);
        }
        return names;
    }
}
