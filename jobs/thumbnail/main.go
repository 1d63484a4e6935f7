// Command thumbnail is Longshore's S3 example: one run per JPEG uploaded
// under incoming/, told which by LONGSHORE_S3_BUCKET and LONGSHORE_S3_KEY.
package main

import (
	"fmt"
	"os"
)

func main() {
	bucket, key := os.Getenv("LONGSHORE_S3_BUCKET"), os.Getenv("LONGSHORE_S3_KEY")
	if key == "" {
		fmt.Fprintln(os.Stderr, "thumbnail: no LONGSHORE_S3_KEY: upload a .jpg under incoming/ to start this job")
		os.Exit(2)
	}
	fmt.Printf("thumbnail for s3://%s/%s\n", bucket, key)
}
