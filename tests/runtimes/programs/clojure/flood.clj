(loop [] (println "y") (recur))
