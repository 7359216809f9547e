package com.fanruan.fanlic.verifier;

/**
 * Loads the native library packed in the jar ({@code native/linux-x86_64/libfanlic_verifier_jni.so})
 * once per class loader. Every class with native methods calls {@link #load()} in its static initializer.
 */
final class NativeLibrary {
    private NativeLibrary() {}

    /** Loads the library if it is not loaded yet; throws {@link UnsatisfiedLinkError} saying why not. */
    static void load() {
        throw new UnsupportedOperationException("to be written");
    }
}
