package com.fanruan.fanlic.verifier;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the native library packed in the jar ({@code native/<os>-<arch>/libfanlic_verifier_jni.so},
 * e.g. {@code native/linux-x86_64/}) once per class loader: copied to a temporary file, loaded with
 * {@link System#load}, and deleted on exit. Every class with native methods calls {@link #load()} in its
 * static initializer.
 *
 * <p>The system property {@value #PATH_PROPERTY} names a library file to load instead (tests,
 * development, a product that unpacks the library itself).
 */
final class NativeLibrary {
    /** The system property naming a library file to load instead of the packed one. */
    static final String PATH_PROPERTY = "fanlic.native.path";

    private static final String NAME = "fanlic_verifier_jni";
    private static boolean loaded;
    private static UnsatisfiedLinkError failure;

    private NativeLibrary() {}

    /** Loads the library if it is not loaded yet; throws {@link UnsatisfiedLinkError} saying why not. */
    static synchronized void load() {
        if (loaded) {
            return;
        }
        if (failure != null) {
            // The same answer every time, not a half-loaded library.
            throw failure;
        }
        try {
            String override = System.getProperty(PATH_PROPERTY);
            if (override != null && !override.isEmpty()) {
                System.load(Path.of(override).toAbsolutePath().toString());
            } else {
                loadPacked(platform());
            }
            loaded = true;
        } catch (UnsatisfiedLinkError e) {
            failure = e;
            throw e;
        }
    }

    /** The platform's folder in the jar: {@code <os>-<arch>}, e.g. {@code linux-x86_64}. */
    static String platform() {
        return os(System.getProperty("os.name", "")) + "-" + arch(System.getProperty("os.arch", ""));
    }

    private static String os(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.startsWith("linux")) {
            return "linux";
        }
        if (n.startsWith("windows")) {
            return "windows";
        }
        if (n.startsWith("mac") || n.startsWith("darwin")) {
            return "macos";
        }
        return n.replaceAll("[^a-z0-9]+", "");
    }

    private static String arch(String name) {
        String a = name.toLowerCase(Locale.ROOT);
        switch (a) {
            case "amd64":
            case "x86_64":
            case "x64":
                return "x86_64";
            case "aarch64":
            case "arm64":
                return "aarch64";
            default:
                return a.replaceAll("[^a-z0-9_]+", "");
        }
    }

    /** The library file's name on a platform: {@code lib<name>.so}, {@code <name>.dll}, {@code lib<name>.dylib}. */
    static String fileName(String platform) {
        if (platform.startsWith("windows-")) {
            return NAME + ".dll";
        }
        if (platform.startsWith("macos-")) {
            return "lib" + NAME + ".dylib";
        }
        return "lib" + NAME + ".so";
    }

    /** Unpacks and loads the library packed for {@code platform}. */
    static void loadPacked(String platform) {
        String file = fileName(platform);
        String resource = "/native/" + platform + "/" + file;
        try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new UnsatisfiedLinkError("the fanlic verifier has no native library for " + platform
                        + " (os.name=" + System.getProperty("os.name") + ", os.arch="
                        + System.getProperty("os.arch") + "): " + resource
                        + " is not in the jar; see the binding's README for adding a platform, or set -D"
                        + PATH_PROPERTY + "=FILE");
            }
            Path tmp = Files.createTempFile("fanlic-verifier-", "-" + file);
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            System.load(tmp.toAbsolutePath().toString());
            // Once loaded the mapping stays valid; on Linux the file can go now, elsewhere at exit.
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // deleteOnExit still applies.
            }
        } catch (IOException e) {
            UnsatisfiedLinkError error =
                    new UnsatisfiedLinkError("cannot unpack " + resource + " to a temporary file: " + e);
            error.initCause(e);
            throw error;
        }
    }

    /**
     * Exercises the boundary itself, for the tests: 0 returns {@code "ok"}; 1 panics in Rust (→
     * {@link IllegalStateException}); 2 → {@link IllegalArgumentException}; 3 → {@link NullPointerException};
     * the text is round-tripped through Rust.
     */
    static native String boundaryCheck(int what, String text);
}
