package io.modelpress.model;

import static io.modelpress.model.TestGraphs.assertOneLine;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class TensorsTest {

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static byte[] raw(TensorProto tensor) {
        return tensor.getRawData().toByteArray();
    }

    /** The tensor with its raw_data replaced by a view into a larger array (as a parser that aliases its input makes). */
    private static TensorProto withRawDataInsideLargerArray(TensorProto tensor) {
        byte[] data = raw(tensor);
        byte[] larger = new byte[data.length + 13];
        java.util.Arrays.fill(larger, (byte) 0x5a);
        System.arraycopy(data, 0, larger, 5, data.length);
        return tensor.toBuilder().setRawData(ByteString.copyFrom(larger).substring(5, 5 + data.length)).build();
    }

    @Test
    void floatsRoundTripBitForBit() {
        float[] values = {0f, -0f, 1f, -1.5f, Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, Float.MIN_NORMAL,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 3.14159f};
        TensorProto tensor = Tensors.ofFloats("f", new long[] {3, 4}, values);
        assertEquals(DataType.FLOAT.code(), tensor.getDataType());
        assertEquals(List.of(3L, 4L), tensor.getDimsList());
        assertTrue(Tensors.isRaw(tensor));
        assertEquals(48, tensor.getRawData().size());
        assertArrayEquals(values, Tensors.toFloats(tensor));
        assertArrayEquals(bytes(0x00, 0x00, 0x80, 0x3f), java.util.Arrays.copyOfRange(raw(tensor), 8, 12),
                "little-endian 1.0f");
        assertEquals(12, Tensors.elementCount(tensor));
        assertEquals(48, Tensors.byteSize(tensor));
        assertArrayEquals(new long[] {3, 4}, Tensors.dims(tensor));
    }

    @Test
    void scalarsHaveNoDims() {
        TensorProto f = Tensors.scalarFloat("s", 2.5f);
        assertEquals(0, f.getDimsCount());
        assertEquals(1, Tensors.elementCount(f));
        assertArrayEquals(new float[] {2.5f}, Tensors.toFloats(f));
        assertArrayEquals(new long[] {-7}, Tensors.toLongs(Tensors.scalarInt64("l", -7)));
    }

    @Test
    void float16RoundTrip() {
        float[] exact = {0f, -0f, 1f, -2f, 0.5f, 65504f, -65504f, 0x1p-14f, 0x1p-24f, Float.POSITIVE_INFINITY, 0.099975586f};
        TensorProto tensor = Tensors.ofFloat16("h", new long[] {exact.length}, exact);
        assertEquals(DataType.FLOAT16.code(), tensor.getDataType());
        assertEquals(exact.length * 2, tensor.getRawData().size());
        assertArrayEquals(exact, Tensors.toFloats(tensor));
        assertArrayEquals(bytes(0x00, 0x3c), java.util.Arrays.copyOfRange(raw(tensor), 4, 6), "little-endian 0x3c00");

        float[] inexact = {0.1f, 1f / 3, 70000f, 1e-9f};
        float[] read = Tensors.toFloats(Tensors.ofFloat16("h2", new long[] {4}, inexact));
        for (int i = 0; i < inexact.length; i++) {
            assertEquals(HalfFloats.halfToFloat(HalfFloats.floatToHalf(inexact[i])), read[i], "value " + inexact[i]);
        }
        assertEquals(Float.POSITIVE_INFINITY, read[2]);
        assertEquals(0f, read[3]);
        assertTrue(Float.isNaN(Tensors.toFloats(Tensors.ofFloat16("n", new long[] {1}, new float[] {Float.NaN}))[0]));
    }

    @Test
    void bfloat16RoundTrip() {
        float[] exact = {0f, -0f, 1f, -2f, 3f, 0x1p-133f, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7f7f0000)};
        TensorProto tensor = Tensors.ofBfloat16("b", new long[] {exact.length}, exact);
        assertEquals(DataType.BFLOAT16.code(), tensor.getDataType());
        assertArrayEquals(exact, Tensors.toFloats(tensor));
        assertArrayEquals(bytes(0x80, 0x3f), java.util.Arrays.copyOfRange(raw(tensor), 4, 6), "little-endian 0x3f80");
        float[] read = Tensors.toFloats(Tensors.ofBfloat16("b2", new long[] {2}, new float[] {0.1f, 1 + 0x1p-8f}));
        assertEquals(Float.intBitsToFloat(0x3dcd0000), read[0]);
        assertEquals(1f, read[1], "ties to even");
    }

    @Test
    void int8AndUint8RoundTrip() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) (i - 128);
        }
        TensorProto int8 = Tensors.ofBytes("i8", DataType.INT8, new long[] {16, 16}, all.clone());
        assertArrayEquals(all, raw(int8));
        float[] asFloats = Tensors.toFloats(int8);
        long[] asLongs = Tensors.toLongs(int8);
        TensorProto uint8 = Tensors.ofBytes("u8", DataType.UINT8, new long[] {256}, all.clone());
        float[] unsigned = Tensors.toFloats(uint8);
        long[] unsignedLongs = Tensors.toLongs(uint8);
        for (int i = 0; i < 256; i++) {
            assertEquals(i - 128, asFloats[i]);
            assertEquals(i - 128, asLongs[i]);
            assertEquals((i - 128) & 0xff, unsigned[i]);
            assertEquals((i - 128) & 0xff, unsignedLongs[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> Tensors.ofBytes("x", DataType.FLOAT, new long[] {1}, new byte[1]));
    }

    @Test
    void int4PacksTheFirstElementInTheLowNibble() {
        TensorProto even = Tensors.ofNibbles("i4", DataType.INT4, new long[] {4}, bytes(1, 2, -1, 7));
        assertEquals(DataType.INT4.code(), even.getDataType());
        assertArrayEquals(bytes(0x21, 0x7f), raw(even));

        TensorProto odd = Tensors.ofNibbles("i4odd", DataType.INT4, new long[] {3}, bytes(-8, 3, -3));
        assertArrayEquals(bytes(0x38, 0x0d), raw(odd), "odd count: the last byte's high nibble is 0");
        assertArrayEquals(bytes(-8, 3, -3), Tensors.unpackNibbles(odd));
        assertArrayEquals(new float[] {-8, 3, -3}, Tensors.toFloats(odd));
        assertArrayEquals(new long[] {-8, 3, -3}, Tensors.toLongs(odd));
        assertEquals(2, Tensors.byteSize(odd));

        TensorProto one = Tensors.ofNibbles("one", DataType.INT4, new long[] {1}, bytes(-1));
        assertArrayEquals(bytes(0x0f), raw(one));
        assertArrayEquals(new float[] {-1}, Tensors.toFloats(one));
    }

    @Test
    void int4AndUint4RoundTripEveryValue() {
        byte[] signed = new byte[33];
        byte[] unsigned = new byte[33];
        for (int i = 0; i < 33; i++) {
            signed[i] = (byte) ((i % 16) - 8);
            unsigned[i] = (byte) (i % 16);
        }
        TensorProto int4 = Tensors.ofNibbles("s", DataType.INT4, new long[] {3, 11}, signed);
        TensorProto uint4 = Tensors.ofNibbles("u", DataType.UINT4, new long[] {33}, unsigned);
        assertEquals(17, int4.getRawData().size());
        assertArrayEquals(signed, Tensors.unpackNibbles(int4));
        assertArrayEquals(unsigned, Tensors.unpackNibbles(uint4));
        float[] u = Tensors.toFloats(uint4);
        for (int i = 0; i < 33; i++) {
            assertEquals(i % 16, u[i]);
        }
        assertArrayEquals(bytes(0x10, 0x32), java.util.Arrays.copyOf(raw(uint4), 2));
        // unsigned 15 and signed -1 share a nibble: the type decides
        assertArrayEquals(bytes(15), Tensors.unpackNibbles(bytes(0xff), 1, false));
        assertArrayEquals(bytes(-1), Tensors.unpackNibbles(bytes(0xff), 1, true));
        assertArrayEquals(bytes(0xef), Tensors.packNibbles(bytes(15, 14)));
        assertThrows(ModelException.class, () -> Tensors.unpackNibbles(Tensors.ofFloats("f", new long[] {1}, new float[1])));
    }

    @Test
    void int32RoundTripKeepsEveryBit() {
        int[] values = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 16_777_217, -16_777_217, 123_456_789};
        TensorProto tensor = Tensors.ofInt32("i32", new long[] {values.length}, values);
        assertEquals(DataType.INT32.code(), tensor.getDataType());
        assertArrayEquals(bytes(0xff, 0xff, 0xff, 0x7f), java.util.Arrays.copyOfRange(raw(tensor), 12, 16));
        long[] longs = Tensors.toLongs(tensor);
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], longs[i], "int32 value " + values[i] + " (a float holds only 24 bits)");
        }
    }

    @Test
    void int64RoundTrip() {
        long[] values = {0, 1, -1, Long.MAX_VALUE, Long.MIN_VALUE, 1L << 53 | 1, -9_007_199_254_740_993L};
        TensorProto tensor = Tensors.ofInt64("i64", new long[] {values.length}, values);
        assertEquals(DataType.INT64.code(), tensor.getDataType());
        assertArrayEquals(values, Tensors.toLongs(tensor));
        assertArrayEquals(bytes(1, 0, 0, 0, 0, 0, 0, 0), java.util.Arrays.copyOfRange(raw(tensor), 8, 16));
    }

    @Test
    void typedFieldsReadLikeRawData() {
        float[] floats = {1.5f, -2.25f, 0f, 1e-30f, Float.MAX_VALUE, -0f};
        TensorProto raw = Tensors.ofFloats("f", new long[] {2, 3}, floats);
        TensorProto.Builder typed = TensorProto.newBuilder().setName("f").setDataType(DataType.FLOAT.code()).addDims(2).addDims(3);
        for (float f : floats) {
            typed.addFloatData(f);
        }
        assertArrayEquals(Tensors.toFloats(raw), Tensors.toFloats(typed.build()));
        assertFalse(Tensors.isRaw(typed.build()));

        // float16 and bfloat16 keep their bit patterns in int32_data
        float[] halves = {1f, -2f, 0.5f, 65504f, 0x1p-24f};
        for (DataType type : List.of(DataType.FLOAT16, DataType.BFLOAT16)) {
            TensorProto rawHalf = type == DataType.FLOAT16 ? Tensors.ofFloat16("h", new long[] {5}, halves)
                    : Tensors.ofBfloat16("h", new long[] {5}, halves);
            ByteBuffer bits = rawHalf.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            TensorProto.Builder typedHalf = TensorProto.newBuilder().setName("h").setDataType(type.code()).addDims(5);
            for (int i = 0; i < 5; i++) {
                typedHalf.addInt32Data(bits.getShort(i * 2) & 0xffff);
            }
            assertArrayEquals(Tensors.toFloats(rawHalf), Tensors.toFloats(typedHalf.build()), type.label());
        }

        long[] longs = {Long.MIN_VALUE, -1, 0, 42, Long.MAX_VALUE};
        TensorProto.Builder typedLongs = TensorProto.newBuilder().setName("l").setDataType(DataType.INT64.code()).addDims(5);
        for (long l : longs) {
            typedLongs.addInt64Data(l);
        }
        assertArrayEquals(Tensors.toLongs(Tensors.ofInt64("l", new long[] {5}, longs)), Tensors.toLongs(typedLongs.build()));
        assertArrayEquals(longs, Tensors.toLongs(typedLongs.build()));

        int[] ints = {Integer.MIN_VALUE, -1, 0, 16_777_217, Integer.MAX_VALUE};
        TensorProto.Builder typedInts = TensorProto.newBuilder().setName("i").setDataType(DataType.INT32.code()).addDims(5);
        for (int i : ints) {
            typedInts.addInt32Data(i);
        }
        assertArrayEquals(Tensors.toLongs(Tensors.ofInt32("i", new long[] {5}, ints)), Tensors.toLongs(typedInts.build()));

        byte[] int8 = bytes(-128, -1, 0, 1, 127);
        TensorProto.Builder typedInt8 = TensorProto.newBuilder().setName("b").setDataType(DataType.INT8.code()).addDims(5);
        for (byte b : int8) {
            typedInt8.addInt32Data(b);
        }
        assertArrayEquals(Tensors.toFloats(Tensors.ofBytes("b", DataType.INT8, new long[] {5}, int8)),
                Tensors.toFloats(typedInt8.build()));

        // int4 in int32_data: packed two to a slot, first element in the low nibble
        TensorProto typedInt4 = TensorProto.newBuilder().setName("n").setDataType(DataType.INT4.code()).addDims(3)
                .addInt32Data(0x38).addInt32Data(0x0d).build();
        assertArrayEquals(Tensors.toFloats(Tensors.ofNibbles("n", DataType.INT4, new long[] {3}, bytes(-8, 3, -3))),
                Tensors.toFloats(typedInt4));

        TensorProto typedDouble = TensorProto.newBuilder().setName("d").setDataType(DataType.DOUBLE.code()).addDims(2)
                .addDoubleData(0.25).addDoubleData(-1e10).build();
        assertArrayEquals(new float[] {0.25f, -1e10f}, Tensors.toFloats(typedDouble));
    }

    /** raw_data may be a view into a larger buffer (an aliasing parser, a substring): values start at the view. */
    @Test
    void rawDataThatIsAViewIntoALargerArrayReadsFromTheView() {
        List<TensorProto> tensors = List.of(
                Tensors.ofBytes("i8", DataType.INT8, new long[] {4}, bytes(-3, 1, 2, 127)),
                Tensors.ofBytes("u8", DataType.UINT8, new long[] {4}, bytes(200, 1, 2, 3)),
                Tensors.ofInt32("i32", new long[] {3}, new int[] {-5, 70_000, Integer.MAX_VALUE}),
                Tensors.ofInt64("i64", new long[] {2}, new long[] {Long.MIN_VALUE, 9}),
                Tensors.ofFloats("f", new long[] {3}, new float[] {1.5f, -2f, 8f}),
                Tensors.ofFloat16("h", new long[] {3}, new float[] {1.5f, -2f, 8f}),
                Tensors.ofBfloat16("bf", new long[] {3}, new float[] {1.5f, -2f, 8f}),
                Tensors.ofNibbles("n", DataType.INT4, new long[] {3}, bytes(-8, 3, -3)));
        for (TensorProto tensor : tensors) {
            TensorProto view = withRawDataInsideLargerArray(tensor);
            assertEquals(tensor.getRawData(), view.getRawData());
            assertArrayEquals(Tensors.toFloats(tensor), Tensors.toFloats(view), tensor.getName());
            if (tensor.getDataType() != DataType.FLOAT.code() && tensor.getDataType() != DataType.FLOAT16.code()
                    && tensor.getDataType() != DataType.BFLOAT16.code()) {
                assertArrayEquals(Tensors.toLongs(tensor), Tensors.toLongs(view), tensor.getName());
            }
        }
        ByteBuffer doubles = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putDouble(0.5).putDouble(-3);
        TensorProto d = TensorProto.newBuilder().setName("d").setDataType(DataType.DOUBLE.code()).addDims(2)
                .setRawData(ByteString.copyFrom(doubles.array())).build();
        assertArrayEquals(new float[] {0.5f, -3f}, Tensors.toFloats(withRawDataInsideLargerArray(d)));
    }

    @Test
    void rawDataOfTheWrongLengthIsRefusedNamingTheTensor() {
        TensorProto shortRaw = TensorProto.newBuilder().setName("layer1.weight").setDataType(DataType.FLOAT.code())
                .addDims(2).addDims(2).setRawData(ByteString.copyFrom(new byte[15])).build();
        ModelException e = assertThrows(ModelException.class, () -> Tensors.toFloats(shortRaw));
        assertOneLine(e, "layer1.weight", "15", "16");

        TensorProto longRaw = Tensors.ofInt64("ids", new long[] {2}, new long[] {1, 2}).toBuilder()
                .setRawData(ByteString.copyFrom(new byte[24])).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.toLongs(longRaw)), "ids", "24");

        TensorProto int4 = TensorProto.newBuilder().setName("packed").setDataType(DataType.INT4.code()).addDims(5)
                .setRawData(ByteString.copyFrom(new byte[2])).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.toFloats(int4)), "packed", "3 bytes");

        TensorProto typed = TensorProto.newBuilder().setName("typed").setDataType(DataType.FLOAT.code()).addDims(3)
                .addFloatData(1).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.toFloats(typed)), "typed", "3", "1");
    }

    @Test
    void absurdShapesAreRefusedClearly() {
        TensorProto overflow = TensorProto.newBuilder().setName("huge").setDataType(DataType.FLOAT.code())
                .addDims(1L << 32).addDims(1L << 32).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.elementCount(overflow)), "huge", "64 bits");
        TensorProto negative = TensorProto.newBuilder().setName("neg").setDataType(DataType.FLOAT.code()).addDims(-1).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.elementCount(negative)), "neg", "negative");
        TensorProto tooManyForAnArray = TensorProto.newBuilder().setName("big").setDataType(DataType.FLOAT.code())
                .addDims(1L << 40).build();
        assertOneLine(assertThrows(ModelException.class, () -> Tensors.toFloats(tooManyForAnArray)), "big");
        assertThrows(IllegalArgumentException.class, () -> Tensors.ofFloats("f", new long[] {2, 2}, new float[3]));
        assertThrows(ModelException.class, () -> DataType.of(99));
    }

    @Test
    void byteSizesOfEveryWidth() {
        assertEquals(0, DataType.INT4.byteSize(0));
        assertEquals(1, DataType.INT4.byteSize(1));
        assertEquals(2, DataType.UINT4.byteSize(3));
        assertEquals(2, DataType.UINT4.byteSize(4));
        assertEquals(7, DataType.INT8.byteSize(7));
        assertEquals(14, DataType.FLOAT16.byteSize(7));
        assertEquals(28, DataType.FLOAT.byteSize(7));
        assertEquals(56, DataType.INT64.byteSize(7));
        assertEquals(112, DataType.COMPLEX128.byteSize(7));
        assertEquals(4L << 40, DataType.FLOAT.byteSize(1L << 40));
        for (DataType type : DataType.values()) {
            assertEquals(type, DataType.of(type.code()));
        }
    }
}
