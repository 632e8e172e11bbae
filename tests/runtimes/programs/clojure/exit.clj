(println "partial")
(flush)
(System/exit 3)
