package com.fanruan.fanlic.verifier;

/** Run in a child JVM by NativeLibraryTest: loads the library (honouring -Dfanlic.native.path) and says how it went. */
public final class LoadOverrideMain {
    private LoadOverrideMain() {}

    public static void main(String[] args) {
        try {
            NativeLibrary.load();
            System.out.println("loaded: " + NativeLibrary.boundaryCheck(0, "override"));
        } catch (UnsatisfiedLinkError e) {
            System.out.println("refused: " + e.getMessage());
        }
    }
}
