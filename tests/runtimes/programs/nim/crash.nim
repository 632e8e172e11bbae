proc abort() {.importc, header: "<stdlib.h>".}

abort()
