package io.modelpress.engine.data.raw;

import io.modelpress.engine.EngineException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A WAV file's audio mixed down to mono: RIFF/WAVE with PCM 8, 16, 24 or 32-bit integer samples or
 * 32/64-bit float samples (format 1, 3, or WAVE_FORMAT_EXTENSIBLE holding either).
 *
 * @param samples mono samples in -1..1
 * @param sampleRate samples per second
 */
record WavFile(float[] samples, int sampleRate) {

    private static final int PCM = 1;
    private static final int IEEE_FLOAT = 3;
    private static final int EXTENSIBLE = 0xFFFE;

    /** Files larger than this are refused rather than read into memory. */
    static final long MAX_BYTES = 1L << 30;

    static WavFile read(Path file) {
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new EngineException(file + ": larger than " + (MAX_BYTES >> 20) + " MiB; cut it into shorter files");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new EngineException(file + ": cannot read (" + e.getMessage() + ")");
        }
        return parse(file, bytes);
    }

    static WavFile parse(Path file, byte[] bytes) {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 12 || !tag(in, 0).equals("RIFF") || !tag(in, 8).equals("WAVE")) {
            throw new EngineException(file + ": not a WAV file (no RIFF/WAVE header)");
        }
        int format = -1;
        int channels = 0;
        int rate = 0;
        int bits = 0;
        int position = 12;
        while (position + 8 <= bytes.length) {
            String id = tag(in, position);
            long size = in.getInt(position + 4) & 0xffffffffL;
            int body = position + 8;
            if (id.equals("fmt ") && size >= 16 && body + 16 <= bytes.length) {
                format = in.getShort(body) & 0xffff;
                channels = in.getShort(body + 2) & 0xffff;
                rate = in.getInt(body + 4);
                bits = in.getShort(body + 14) & 0xffff;
                if (format == EXTENSIBLE && size >= 26 && body + 26 <= bytes.length) {
                    format = in.getShort(body + 24) & 0xffff; // the sub-format GUID starts with the format code
                }
            } else if (id.equals("data")) {
                if (format < 0) {
                    throw new EngineException(file + ": WAV data comes before its 'fmt ' chunk");
                }
                long available = Math.min(size, bytes.length - body); // a stream-written file may declare more
                return new WavFile(decode(file, in, body, (int) available, format, channels, bits), checkRate(file, rate));
            }
            position = (int) Math.min(Integer.MAX_VALUE, body + size + (size & 1));
        }
        throw new EngineException(file + ": WAV file without a 'data' chunk");
    }

    private static int checkRate(Path file, int rate) {
        if (rate <= 0) {
            throw new EngineException(file + ": WAV sample rate " + rate + " is not valid");
        }
        return rate;
    }

    private static float[] decode(Path file, ByteBuffer in, int start, int length, int format, int channels, int bits) {
        if (channels < 1) {
            throw new EngineException(file + ": WAV declares " + channels + " channels");
        }
        boolean integer = format == PCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32);
        boolean floating = format == IEEE_FLOAT && (bits == 32 || bits == 64);
        if (!integer && !floating) {
            throw new EngineException(file + ": WAV format " + format + " with " + bits
                    + "-bit samples is not read; PCM 8/16/24/32-bit or float 32/64-bit are");
        }
        int width = bits / 8;
        int frames = length / (width * channels);
        float[] mono = new float[frames];
        for (int f = 0; f < frames; f++) {
            double sum = 0;
            for (int c = 0; c < channels; c++) {
                sum += sample(in, start + (f * channels + c) * width, bits, floating);
            }
            mono[f] = (float) (sum / channels);
        }
        return mono;
    }

    private static double sample(ByteBuffer in, int at, int bits, boolean floating) {
        if (floating) {
            return bits == 32 ? in.getFloat(at) : in.getDouble(at);
        }
        return switch (bits) {
            case 8 -> ((in.get(at) & 0xff) - 128) / 128.0; // 8-bit WAV is unsigned
            case 16 -> in.getShort(at) / 32768.0;
            case 24 -> ((in.get(at) & 0xff) | (in.get(at + 1) & 0xff) << 8 | in.get(at + 2) << 16) / 8388608.0;
            default -> in.getInt(at) / 2147483648.0;
        };
    }

    private static String tag(ByteBuffer in, int at) {
        byte[] chars = new byte[4];
        for (int i = 0; i < 4; i++) {
            chars[i] = in.get(at + i);
        }
        return new String(chars, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /**
     * Band-limited resampling: each output sample is a Hann-windowed sinc sum over the input, with the
     * cutoff lowered when going down in rate so that nothing above the new Nyquist frequency folds back.
     */
    static float[] resample(float[] samples, int from, int to) {
        if (from == to) {
            return samples.clone();
        }
        double ratio = (double) to / from;
        double cutoff = Math.min(1.0, ratio);
        int zeroCrossings = 16;
        double halfWidth = zeroCrossings / cutoff;
        int length = (int) Math.floor(samples.length * ratio);
        float[] out = new float[length];
        for (int i = 0; i < length; i++) {
            double center = i / ratio;
            int first = (int) Math.ceil(center - halfWidth);
            int last = (int) Math.floor(center + halfWidth);
            double sum = 0;
            for (int j = Math.max(0, first); j <= Math.min(samples.length - 1, last); j++) {
                double t = j - center;
                double window = 0.5 + 0.5 * Math.cos(Math.PI * t / halfWidth);
                sum += samples[j] * cutoff * sinc(cutoff * t) * window;
            }
            out[i] = (float) sum;
        }
        return out;
    }

    private static double sinc(double x) {
        return x == 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    }
}
