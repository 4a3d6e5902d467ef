// The declaration is all this target is for (see include/CFuzzerDriver.h).
