import qualified Data.ByteString as B

-- Touches 600 MiB, one MiB at a time.
main :: IO ()
main = do
  let blocks = [B.replicate (1024 * 1024) (fromIntegral i) | i <- [1 .. 600 :: Int]]
  print (sum (map B.length blocks), sum (map B.last blocks))
